"""Deskhand's own web server (granian, ASGI) in a thread of the test process, on the test database:
what browser tests of server-sent events need (pytest-django's live server speaks WSGI, which
reads a stream whole before it sends anything)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator


def serve_asgi(host: str = "127.0.0.1") -> Iterator[str]:
    """Yields the server's base URL (`http://localhost:<port>`); stops it before the test's database
    is flushed (a fixture torn down before pytest-django's)."""
    from deskhand.system.asgi import build_application
    from deskhand.system.webserver import WebServer

    with socket.socket() as probe:
        probe.bind((host, 0))
        port = probe.getsockname()[1]
    server = WebServer(build_application(threads=8), host, port)
    thread = threading.Thread(target=server.run, name="asgi-test-server", daemon=True)
    thread.start()
    assert server.listening.wait(20), "the ASGI server did not start"
    try:
        yield f"http://localhost:{port}"
    finally:
        server.halt()
        thread.join(10)
