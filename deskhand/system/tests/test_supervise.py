"""A part of `deskhand serve` that fails is logged and started again; the others go on."""

from __future__ import annotations

import threading

import pytest

from deskhand.system.supervise import Supervised


def test_a_part_that_raises_is_logged_and_started_again(caplog: pytest.LogCaptureFixture) -> None:
    runs: list[int] = []
    halted = threading.Event()

    def part() -> None:
        runs.append(1)
        if len(runs) == 1:
            raise RuntimeError("database is locked")
        halted.wait(10)

    supervised = Supervised("task-worker", part, halt=halted.set, backoff=(0.01,))
    supervised.start()
    try:
        for _ in range(200):
            if len(runs) == 2:
                break
            threading.Event().wait(0.01)
        assert len(runs) == 2 and supervised.is_alive()
    finally:
        supervised.stop(5)
    assert not supervised.is_alive() and supervised.restarts == 1
    assert "task-worker failed" in caplog.text and "database is locked" in caplog.text


def test_a_part_that_returns_by_itself_is_started_again() -> None:
    runs: list[int] = []
    supervised = Supervised("scheduler", lambda: runs.append(1), backoff=(0.01,))
    supervised.start()
    for _ in range(200):
        if len(runs) >= 3:
            break
        threading.Event().wait(0.01)
    supervised.stop(5)
    assert len(runs) >= 3 and not supervised.is_alive()


def test_the_pause_grows_with_repeated_failures_and_stop_cuts_it_short() -> None:
    def part() -> None:
        raise OSError("no route")

    supervised = Supervised("imap-idle", part, backoff=(0.01, 60.0))
    supervised.start()
    for _ in range(200):
        if supervised.restarts >= 2:
            break
        threading.Event().wait(0.01)
    assert supervised.restarts == 2  # the second pause is 60 s long: no third run yet
    supervised.stop(2)
    assert not supervised.is_alive()
