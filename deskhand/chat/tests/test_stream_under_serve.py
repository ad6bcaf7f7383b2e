"""The event stream under the real server (`deskhand serve`, granian): a visitor's SSE client
receives an agent's message written by another process (seen by polling) and its own messages
at once (the broker's wake-up)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

DESKHAND = str(Path(sys.executable).with_name("deskhand"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _serve(env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    server = subprocess.Popen([DESKHAND, "serve", "--no-smtp", "--no-worker"], env=env, stdout=log.open("wb"),
                              stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        assert server.poll() is None, log.read_text()
        assert time.monotonic() < deadline, "serve did not answer within 60 s"
        time.sleep(0.3)

AGENT_SAYS = """
from deskhand.agents.services import create_agent
from deskhand.chat.models import Chat
from deskhand.chat.services import accept_chat, post_agent_message
from deskhand.core.actors import SYSTEM, Actor
agent = create_agent("ana@deskhand.test", name="Ana Agent", password="correct-horse-9", actor=SYSTEM)
chat = Chat.objects.get(pk={chat_id})
accept_chat(chat, agent=agent, actor=Actor.agent(agent))
post_agent_message(chat, body="Hello from Ana", agent=agent, actor=Actor.agent(agent))
"""


def test_an_sse_client_receives_the_agents_message(tmp_path: Path, database_url: str) -> None:
    port = _free_port()
    env = {**os.environ, "DESKHAND_DATA_DIR": str(tmp_path), "DATABASE_URL": database_url,
           "DESKHAND_HTTP_ADDR": f"127.0.0.1:{port}"}
    server = _serve(env, port, tmp_path / "serve.log")
    base = f"http://127.0.0.1:{port}"
    try:
        started = httpx.post(f"{base}/widget/chats", json={"email": "zoe@example.org", "name": "Zoe",
                                                           "message": "Hello?", "language": "en"}, timeout=10)
        assert started.status_code == 201, started.text
        chat = started.json()
        received: list[str] = []
        done = threading.Event()

        def listen() -> None:
            url = f"{base}/widget/chats/{chat['id']}/events?token={chat['token']}"
            with httpx.stream("GET", url, timeout=30) as response:
                assert response.headers["content-type"].startswith("text/event-stream")
                for line in response.iter_lines():
                    received.append(line)
                    seen = "\n".join(received)
                    if "Hello from Ana" in seen and '"status":"active"' in seen:
                        done.set()
                        return

        reader = threading.Thread(target=listen, daemon=True)
        reader.start()
        time.sleep(1.0)
        subprocess.run([DESKHAND, "shell", "-c", AGENT_SAYS.format(chat_id=chat["id"])], env=env, check=True,
                       timeout=60)
        assert done.wait(30), received
        text = "\n".join(received)
        assert "event: message" in text and '"author":"agent"' in text and '"status":"active"' in text
        assert '"agent":"Ana Agent"' in text
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
