"""The scale-out processes as an operator runs them: `deskhand web` with several processes, a web
process killed with -9 and replaced, and `deskhand supervise` starting a dead process again."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from deskhand.system.tests.test_serve import _free_port

DESKHAND = str(Path(sys.executable).with_name("deskhand"))


def _children(pid: int) -> set[int]:
    """The processes `pid` started (for `web`, its web processes: not multiprocessing's tracker)."""
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found |= {int(child) for child in (task / "children").read_text().split()}
        except OSError:
            continue
    return {child for child in found if b"resource_tracker" not in _cmdline(child)}


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _until(condition: Callable[[], object], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.2)


def _env(tmp_path: Path, database_url: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("DESKHAND_")}
    return {**env, "DESKHAND_DATA_DIR": str(tmp_path), "DATABASE_URL": database_url}


def _healthy(base: str) -> bool:
    try:
        return httpx.get(f"{base}/healthz", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


def test_web_runs_several_processes_and_replaces_one_killed_with_minus_nine(tmp_path: Path, database_url: str) -> None:
    env = _env(tmp_path, database_url)
    subprocess.run([DESKHAND, "migrate", "--no-input", "-v", "0"], env=env, check=True)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    web = subprocess.Popen([DESKHAND, "web", "--workers", "2", "--addr", f"127.0.0.1:{port}"], env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        _until(lambda: _healthy(base) and len(_children(web.pid)) == 2, 90, "deskhand web did not come up")
        before = _children(web.pid)
        victim = min(before)
        os.kill(victim, signal.SIGKILL)
        _until(lambda: len(_children(web.pid) - {victim}) == 2, 60, "the killed web process was not replaced")
        answers = [httpx.get(f"{base}/login", timeout=10).status_code for _ in range(10)]
        assert answers == [200] * 10
        processes = _children(web.pid)
        web.send_signal(signal.SIGTERM)
        web.wait(45)
        assert web.returncode == 0
        output = web.stdout.read().decode() if web.stdout else ""
        assert "with 2 processes" in output and "Deskhand web stopped." in output
        _until(lambda: not any(Path(f"/proc/{pid}").exists() for pid in processes), 10, "web processes lived on")
    finally:
        if web.poll() is None:
            os.killpg(web.pid, signal.SIGKILL)
            web.wait()


def test_web_processes_end_with_a_web_command_killed_with_minus_nine(tmp_path: Path) -> None:
    env = _env(tmp_path, "")
    subprocess.run([DESKHAND, "migrate", "--no-input", "-v", "0"], env=env, check=True)
    port = _free_port()
    web = subprocess.Popen([DESKHAND, "web", "--workers", "2", "--addr", f"127.0.0.1:{port}"], env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        _until(lambda: _healthy(f"http://127.0.0.1:{port}") and len(_children(web.pid)) == 2, 90, "no web")
        processes = _children(web.pid)
        web.kill()
        web.wait()
        # Nothing holds the port any more: the next `deskhand web` (systemd's restart) can bind it.
        _until(lambda: not any(Path(f"/proc/{pid}").exists() for pid in processes), 10, "web processes lived on")
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(web.pid, signal.SIGKILL)


def test_web_refuses_a_senseless_number_of_processes(tmp_path: Path) -> None:
    result = subprocess.run([DESKHAND, "web", "--workers", "0"], env=_env(tmp_path, ""), capture_output=True,
                            text=True)
    assert result.returncode != 0 and "--workers must be between 1 and 64" in result.stderr


def test_supervise_starts_a_process_killed_with_minus_nine_again(tmp_path: Path, database_url: str) -> None:
    env = _env(tmp_path, database_url)
    subprocess.run([DESKHAND, "migrate", "--no-input", "-v", "0"], env=env, check=True)
    keeper = subprocess.Popen([DESKHAND, "supervise", "scheduler"], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, start_new_session=True)
    try:
        _until(lambda: len(_children(keeper.pid)) == 1, 30, "supervise did not start the scheduler")
        [first] = _children(keeper.pid)
        time.sleep(1)
        os.kill(first, signal.SIGKILL)
        _until(lambda: _children(keeper.pid) - {first}, 30, "the scheduler was not started again")
        keeper.send_signal(signal.SIGTERM)
        keeper.wait(30)
        assert keeper.returncode == 0
        output = keeper.stdout.read().decode() if keeper.stdout else ""
        assert f"(pid {first}) exited with -9; starting it again" in output
    finally:
        with contextlib.suppress(ProcessLookupError):  # the scheduler it started too
            os.killpg(keeper.pid, signal.SIGKILL)
        keeper.wait()


def test_supervise_names_what_it_can_run(tmp_path: Path) -> None:
    result = subprocess.run([DESKHAND, "supervise", "shell"], env=_env(tmp_path, ""), capture_output=True, text=True)
    assert result.returncode != 0 and "Name one of scheduler, serve, smtpd, web, worker" in result.stderr
