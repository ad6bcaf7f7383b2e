"""The web server inside `deskhand serve`: granian's embedded server, on an event loop of its own
thread, running Django's ASGI application (`deskhand.asgi`).

Connections are held by granian's Rust side, so a thousand idle or slow clients cost memory, not
threads: only a request whose headers and body have arrived reaches Django, which runs it on a
thread of its own (at most `threads` at once, see `deskhand.system.asgi`). Headers must arrive
within `header_timeout` seconds of the connection opening, one byte at a time or not.
"""

from __future__ import annotations

import asyncio
import copy
import ctypes
import logging
import os
import resource
import signal
import sys
import threading
from typing import Any

from django.conf import settings

log = logging.getLogger("deskhand.serve")

HEADER_TIMEOUT = 10.0
MAX_CONNECTIONS = 2048


class WebServer:
    """`run()` blocks until `halt()` (from any thread); each `run()` starts a fresh server."""

    def __init__(self, app: Any, host: str, port: int, *, header_timeout: float = HEADER_TIMEOUT,
                 max_connections: int = MAX_CONNECTIONS) -> None:
        self.app = app
        self.host = host
        self.port = port
        self.header_timeout = header_timeout
        self.max_connections = max_connections
        self.listening = threading.Event()
        self._lock = threading.Lock()
        self._halted = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: Any = None

    def _build(self) -> Any:
        from granian.server.embed import Server

        server = Server(self.app, **_server_options(self.host, self.port, header_timeout=self.header_timeout,
                                                    max_connections=self.max_connections))
        server.on_startup(self.listening.set)
        return server

    def run(self) -> None:
        _allow_connections(self.max_connections)
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        with self._lock:
            if self._halted:
                loop.close()
                return
            self._loop, self._server = loop, self._build()
        try:
            loop.run_until_complete(self._server.serve())
        finally:
            self.listening.clear()
            with self._lock:
                self._loop = self._server = None
            loop.close()

    def halt(self) -> None:
        with self._lock:
            self._halted = True
            if self._loop is not None and self._server is not None:
                self._loop.call_soon_threadsafe(self._server.stop)


def _server_options(host: str, port: int, *, header_timeout: float, max_connections: int) -> dict[str, Any]:
    """What `serve`'s embedded server and `deskhand web`'s processes share."""
    from granian.constants import HTTPModes, Interfaces
    from granian.http import HTTP1Settings
    from granian.log import LogLevels

    # Granian configures logging itself: hand it ours so that Deskhand's log format and
    # handlers stay, and keep its own chatter (a banner, "experimental") out of the log.
    return {"address": host, "port": port, "interface": Interfaces.ASGINL, "http": HTTPModes.http1,
            "websockets": False, "backlog": 1024, "backpressure": max_connections,
            "http1_settings": HTTP1Settings(header_read_timeout=int(header_timeout * 1000)),
            "log_dictconfig": copy.deepcopy(settings.LOGGING), "log_level": LogLevels.error}


def multi_process_server(host: str, port: int, *, workers: int, header_timeout: float = HEADER_TIMEOUT,
                         max_connections: int = MAX_CONNECTIONS) -> Any:
    """`deskhand web`: granian's own process manager over `deskhand.asgi:application`, one shared
    socket, each process started again when it dies (a crash, an out-of-memory kill, kill -9)."""
    from granian.server import Server

    _allow_connections(max_connections)
    os.environ[PARENT_VARIABLE] = str(os.getpid())
    return Server("deskhand.asgi:application", workers=workers, respawn_failed_workers=True,
                  respawn_interval=1.0, workers_kill_timeout=30,
                  **_server_options(host, port, header_timeout=header_timeout, max_connections=max_connections))


PARENT_VARIABLE = "DESKHAND_WEB_PARENT"


def die_with_parent() -> None:
    """In a process of `deskhand web`: end when the web command ends, even by kill -9, instead of
    living on with the listening socket (a new `deskhand web` could not bind it then)."""
    parent = os.environ.get(PARENT_VARIABLE, "")
    if not parent.isdigit() or not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() != int(parent):  # the parent died before the line above
        os._exit(1)


def _allow_connections(count: int) -> None:
    """Raise the open-files limit to what `count` connections need, as far as the system lets us."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = count + 512
    if soft != resource.RLIM_INFINITY and soft < wanted:
        target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        except (ValueError, OSError):
            log.warning("could not raise the open-files limit to %d", target)
