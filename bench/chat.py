"""Issue 16's live-chat figures: `--chats` concurrent chats against one `deskhand serve` (a real
process, granian, its own data directory and port), each with the visitor's event stream and its
agent's event stream open, both sides writing a message every `--interval` seconds for `--seconds`.

- delivery: from just before a message's POST is sent to the moment the other side's event stream
  yields it (agent → customer on the visitor's stream, customer → agent on the agent's), p50/p95/max;
- the POSTs' own latency, errors of any kind, and messages delivered against messages sent;
- the server's memory (RSS of the serve process and its children) idle, with the streams open, and
  at the peak.

    .venv/bin/python bench/chat.py [--chats 200] [--seconds 60] [--interval 10]
        [--database-url postgres://postgres@127.0.0.1:5432/bench_chat [--redis-url redis://127.0.0.1:6379/14]]

The chats are started and accepted through the chat services before the server starts (as
visitors from 200 addresses would have started them; one loopback address would meet the per-address
limit); everything measured then goes over HTTP. A PostgreSQL database named in the URL is dropped
and made anew. Target (issue 16): delivery p95 < 200 ms both ways. Figures go to bench/README.md."""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "bench-chat-password-1"
AGENTS = 20  # 10 chats each: an agent may hold 20 streams per process


def prepare(chats: int) -> list[dict[str, Any]]:
    """Agents, and `chats` chats started by visitors and accepted: their ids, tokens and agents."""
    from django.core.management import call_command

    from deskhand.agents.services import create_agent
    from deskhand.chat.inputs import ChatStart
    from deskhand.chat.services import accept_chat, start_chat
    from deskhand.core.actors import SYSTEM, Actor

    call_command("migrate", verbosity=0)
    agents = [create_agent(f"agent{n}@bench.example", name=f"Agent {n}", password=PASSWORD, actor=SYSTEM)
              for n in range(AGENTS)]
    rows = []
    for n in range(chats):
        started = start_chat(ChatStart(message="Hello, is anyone there?", client=f"10.1.{n // 250}.{n % 250}",
                                       email=f"visitor{n}@shop{n % 40}.example", name=f"Visitor {n}", language="en"))
        agent = agents[n % AGENTS]
        accept_chat(started.chat, agent=agent, actor=Actor.agent(agent))
        rows.append({"id": started.chat.pk, "token": started.token, "agent": agent.email})
    return rows


def rss_kb(pid: int) -> int:
    """Resident memory of a process and its children, in KB."""
    total = 0
    pids = [pid]
    try:
        children = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
        pids += [int(child) for child in children]
    except OSError:
        pass
    for each in pids:
        try:
            status = Path(f"/proc/{each}/status").read_text()
        except OSError:
            continue
        found = re.search(r"^VmRSS:\s+(\d+) kB", status, re.M)
        total += int(found.group(1)) if found else 0
    return total


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its children so far."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return sum(int(value) for value in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Tally:
    def __init__(self) -> None:
        self.sent: dict[str, float] = {}
        self.to_customer: list[float] = []
        self.to_agent: list[float] = []
        self.posts: list[float] = []
        self.errors: list[str] = []
        self.ready = 0

    def received(self, body: str, *, on: str) -> None:
        tag = body.split(" ", 1)[0]
        started = self.sent.pop(f"{tag}:{on}", None)
        if started is not None:
            (self.to_customer if on == "customer" else self.to_agent).append((time.perf_counter() - started) * 1000)


async def read_stream(client: Any, url: str, tally: Tally, *, on: str, stop: asyncio.Event,
                      headers: dict[str, str] | None = None) -> None:
    """Follow one event stream until `stop`; messages the other side wrote are timed."""
    counted = False
    while not stop.is_set():
        try:
            async with client.stream("GET", url, headers=headers or {}, timeout=None) as response:
                if response.status_code != 200:
                    tally.errors.append(f"stream {url}: {response.status_code}")
                    await asyncio.sleep(5)
                    continue
                event = ""
                async for line in response.aiter_lines():
                    if not counted:
                        counted = True
                        tally.ready += 1
                    if line.startswith("event: "):
                        event = line[7:]
                    elif line.startswith("data: ") and event == "message":
                        data = json.loads(line[6:])
                        author = data.get("author")
                        if (on == "customer" and author == "agent") or (on == "agent" and author == "customer"):
                            tally.received(data.get("body", ""), on=on)
                    if stop.is_set():
                        return
        except Exception as exc:  # noqa: BLE001 - a benchmark counts every failure
            if not stop.is_set():
                tally.errors.append(f"stream {url}: {type(exc).__name__}")
                await asyncio.sleep(1)


async def run(base: str, chats: list[dict[str, Any]], *, seconds: float, interval: float, pid: int) -> dict[str, Any]:
    import httpx

    limits = httpx.Limits(max_connections=2000, max_keepalive_connections=2000)
    tally = Tally()
    stop = asyncio.Event()
    # Visitors come from many addresses, and the server caps streams per address: each group of 10
    # chats speaks from an address of its own on the loopback network (127.0.1.x).
    visitor_clients = [httpx.AsyncClient(base_url=base, limits=limits, timeout=30,
                                         transport=httpx.AsyncHTTPTransport(local_address=f"127.0.1.{k + 1}"))
                       for k in range((len(chats) + 9) // 10)]

    def visitor(index: int) -> Any:
        return visitor_clients[index // 10]
    agents: dict[str, Any] = {}
    for email in sorted({row["agent"] for row in chats}):
        client = httpx.AsyncClient(base_url=base, limits=limits, timeout=30)
        page = await client.get("/login")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        assert token, "no CSRF token on /login"
        signed = await client.post("/login", data={"csrfmiddlewaretoken": token.group(1), "email": email,
                                                   "password": PASSWORD}, headers={"Referer": f"{base}/login"})
        assert signed.status_code in (302, 303), f"sign-in of {email}: {signed.status_code}"
        agents[email] = client
    memory = {"idle_mb": rss_kb(pid) / 1024}
    readers = []
    for index, row in enumerate(chats):
        readers.append(asyncio.create_task(read_stream(
            visitor(index), f"/widget/chats/{row['id']}/events?token={row['token']}", tally, on="customer", stop=stop)))
        readers.append(asyncio.create_task(read_stream(
            agents[row["agent"]], f"/chats/{row['id']}/events", tally, on="agent", stop=stop)))
    deadline = time.monotonic() + 60
    while tally.ready < len(readers) and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
    memory["streams_open_mb"] = rss_kb(pid) / 1024
    print(f"  {tally.ready} of {len(readers)} streams open; server RSS {memory['streams_open_mb']:.0f} MB", flush=True)

    async def agent_says(row: dict[str, Any], tag: str) -> None:
        client = agents[row["agent"]]
        tally.sent[f"{tag}:customer"] = started = time.perf_counter()
        response = await client.post(f"/chats/{row['id']}/reply", data={"body": f"{tag} How can I help?"},
                                     headers={"X-CSRFToken": client.cookies.get("csrftoken", ""),
                                              "Accept": "application/json", "Referer": f"{base}/chats"})
        tally.posts.append((time.perf_counter() - started) * 1000)
        if response.status_code != 201:
            tally.errors.append(f"agent reply: {response.status_code} {response.text[:80]}")

    async def customer_says(index: int, row: dict[str, Any], tag: str) -> None:
        tally.sent[f"{tag}:agent"] = started = time.perf_counter()
        response = await visitor(index).post(f"/widget/chats/{row['id']}/messages", json={"body": f"{tag} Thanks!"},
                                       headers={"X-Chat-Token": row["token"]})
        tally.posts.append((time.perf_counter() - started) * 1000)
        if response.status_code != 201:
            tally.errors.append(f"customer message: {response.status_code} {response.text[:80]}")

    async def talk(index: int, row: dict[str, Any]) -> int:
        await asyncio.sleep(interval * index / len(chats))  # spread evenly over an interval
        sent, end = 0, time.monotonic() + seconds
        while time.monotonic() < end:
            await agent_says(row, f"a{row['id']}-{sent}")
            await asyncio.sleep(interval / 2)
            await customer_says(index, row, f"c{row['id']}-{sent}")
            sent += 1
            await asyncio.sleep(interval / 2)
        return sent * 2

    peak = memory["streams_open_mb"]
    server_cpu, client_cpu, wall = cpu_seconds(pid), time.process_time(), time.monotonic()
    talkers = [asyncio.create_task(talk(index, row)) for index, row in enumerate(chats)]
    while not all(task.done() for task in talkers):
        peak = max(peak, rss_kb(pid) / 1024)
        await asyncio.sleep(1)
    sent_total = sum(task.result() for task in talkers)
    wall = time.monotonic() - wall
    cpu = {"server_cores_busy": round((cpu_seconds(pid) - server_cpu) / wall, 2),
           "client_cores_busy": round((time.process_time() - client_cpu) / wall, 2)}
    await asyncio.sleep(3)  # the last messages' way over
    stop.set()
    for task in readers:
        task.cancel()
    await asyncio.gather(*readers, return_exceptions=True)
    for client in [*visitor_clients, *agents.values()]:
        await client.aclose()
    memory["peak_mb"] = peak
    return {"tally": tally, "sent": sent_total, "memory": memory, "cpu": cpu}


def summary(values: list[float]) -> dict[str, float]:
    if not values:
        return {"count": 0}
    ordered = sorted(values)
    return {"count": len(values), "p50_ms": round(statistics.median(ordered), 1),
            "p95_ms": round(ordered[max(0, int(len(ordered) * 0.95) - 1)], 1), "max_ms": round(ordered[-1], 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chats", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--interval", type=float, default=10, help="seconds between a side's messages in a chat")
    parser.add_argument("--database-url", default="")
    parser.add_argument("--redis-url", default="")
    parser.add_argument("--data-dir", type=Path)
    parser.add_argument("--json", type=Path, help="write the figures here too")
    args = parser.parse_args()
    data = args.data_dir or Path(tempfile.mkdtemp(prefix="bench-chat-"))
    data.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "DESKHAND_DATA_DIR": str(data), "DJANGO_SETTINGS_MODULE": "deskhand.settings"}
    env.pop("DATABASE_URL", None)
    env.pop("DESKHAND_REDIS_URL", None)
    if args.database_url:
        base, _, name = args.database_url.rpartition("/")
        for sql in (f"DROP DATABASE IF EXISTS {name}", f"CREATE DATABASE {name}"):
            subprocess.run(["psql", f"{base}/postgres", "-qc", sql], check=True)
        env["DATABASE_URL"] = args.database_url
    if args.redis_url:
        env["DESKHAND_REDIS_URL"] = args.redis_url
    os.environ.update({key: value for key, value in env.items() if key in (
        "DESKHAND_DATA_DIR", "DJANGO_SETTINGS_MODULE", "DATABASE_URL", "DESKHAND_REDIS_URL")})
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.db import connection

    print(f"{connection.vendor}{' + Redis' if args.redis_url else ''}, {args.chats} chats, {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.1f}", flush=True)
    chats = prepare(args.chats)
    connection.close()
    port = free_port()
    log = (data / "serve.log").open("w")
    server = subprocess.Popen([str(ROOT / ".venv/bin/deskhand"), "serve", "--no-smtp", "--no-worker", "--no-migrate",
                               "--addr", f"127.0.0.1:{port}"], env=env, stdout=log, stderr=subprocess.STDOUT,
                              start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        import httpx

        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise SystemExit(f"deskhand serve did not start; see {data / 'serve.log'}")
            time.sleep(0.3)
        # One process plays 400 browsers: its own garbage-collector pauses would be counted as the
        # server's delivery time (each real browser collects on its own), so it collects after the run.
        gc.disable()
        try:
            result = asyncio.run(run(base, chats, seconds=args.seconds, interval=args.interval, pid=server.pid))
        finally:
            gc.enable()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
        log.close()
    tally: Tally = result["tally"]
    delivered = len(tally.to_customer) + len(tally.to_agent)
    figures = {
        "database": connection.vendor, "redis": bool(args.redis_url), "chats": args.chats, "seconds": args.seconds,
        "interval": args.interval, "sent": result["sent"], "delivered": delivered,
        "agent_to_customer": summary(tally.to_customer), "customer_to_agent": summary(tally.to_agent),
        "posts": summary(tally.posts), "errors": len(tally.errors), "error_kinds": sorted(set(tally.errors))[:10],
        "memory": {key: round(value, 1) for key, value in result["memory"].items()}, "cpu": result["cpu"],
        "load_average_end": round(os.getloadavg()[0], 1),
    }
    print(json.dumps(figures, indent=2), flush=True)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    if not args.data_dir:
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
