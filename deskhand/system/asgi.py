"""Django's ASGI handler as `deskhand serve` runs it, and a bound on request bodies.

Under ASGI, Django runs each request's synchronous code (middleware, views, the ORM) on a thread
of its own. Four things are added here:
- at most `threads` requests run Django code at once; the rest wait on the event loop, costing
  no thread and no database connection (PostgreSQL's connection limit stays out of reach);
- the request's database connections are closed when it ends: its thread does not live on, so
  a kept connection could never be reused;
- a streamed response from a synchronous iterator (downloads, static files, exports) is sent
  chunk by chunk, where Django would first read it whole into memory;
- a body larger than `max_body` is refused with 413 before it is read (a declared length) or
  the request is dropped once it goes past (a chunked body).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from functools import partial
from typing import Any, cast

from asgiref.sync import SyncToAsync, sync_to_async
from django.core.handlers.asgi import ASGIHandler
from django.db import connections
from django.http import HttpRequest, HttpResponseBase, StreamingHttpResponse

Scope = dict[str, Any]
Receive = Any
Send = Any

THREADS = 32
# The largest mail the inbound endpoint takes (100 MB) and its headers, as waitress had it.
MAX_BODY = 110 * 1024 * 1024


class DeskhandASGIHandler(ASGIHandler):
    def __init__(self, *, threads: int = THREADS) -> None:
        super().__init__()
        self.threads = threads
        self._slots: tuple[asyncio.AbstractEventLoop, asyncio.Semaphore] | None = None

    def _semaphore(self) -> asyncio.Semaphore:
        # One per event loop: the web server may be restarted on a new loop.
        loop = asyncio.get_running_loop()
        if self._slots is None or self._slots[0] is not loop:
            self._slots = (loop, asyncio.Semaphore(self.threads))
        return self._slots[1]

    async def run_get_response(self, request: HttpRequest) -> HttpResponseBase:
        async with self._semaphore():
            response: HttpResponseBase = await super().run_get_response(request)
        if isinstance(response, StreamingHttpResponse) and response.is_async:
            # A long-lived stream (live chat's server-sent events) waits on the event loop; the
            # thread Django gave this request for its synchronous middleware is let go now, with
            # its database connection, instead of idling for as long as the stream lasts.
            await sync_to_async(connections.close_all)()
            _let_request_thread_go()
        elif isinstance(response, StreamingHttpResponse):
            # Django would read a synchronous iterator (a file download, a static file, a CSV
            # export) whole into memory first; hand it over one chunk at a time instead.
            response.streaming_content = _chunks(iter(cast(Iterator[bytes], response.streaming_content)))
        return response

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().handle(scope, receive, send)
        finally:
            # Runs on the request's own thread (Django's ThreadSensitiveContext).
            await sync_to_async(connections.close_all)()


def _let_request_thread_go() -> None:
    """End this request's thread-sensitive executor (asgiref keeps one per request context until
    the request ends); a later synchronous call of the request starts a fresh one."""
    context = SyncToAsync.thread_sensitive_context.get(None)
    if context is not None:
        executor = SyncToAsync.context_to_thread_executor.pop(context, None)
        if executor is not None:
            executor.shutdown(wait=False)


_END = object()


async def _chunks(iterator: Iterator[bytes]) -> AsyncIterator[bytes]:
    step = partial(next, iterator, _END)
    while (chunk := await sync_to_async(step)()) is not _END:
        yield chunk


class BodyLimit:
    """ASGI middleware: refuse request bodies over `max_bytes`."""

    def __init__(self, app: Any, *, max_bytes: int = MAX_BODY) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", ()):
            if name.lower() == b"content-length" and (not value.isdigit() or int(value) > self.max_bytes):
                await _too_large(send, self.max_bytes)
                return
        received = 0
        started = False

        async def bounded_receive() -> dict[str, Any]:
            nonlocal received
            message: dict[str, Any] = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    # Django stops reading a request whose client went away, and answers nothing.
                    return {"type": "http.disconnect"}
            return message

        async def watched_send(message: dict[str, Any]) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        await self.app(scope, bounded_receive, watched_send)
        if received > self.max_bytes and not started:
            await _too_large(send, self.max_bytes)


async def _too_large(send: Send, max_bytes: int) -> None:
    body = f'{{"detail": "The request body is larger than {max_bytes // (1024 * 1024)} MB."}}'.encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})


def build_application(*, threads: int = THREADS, max_body: int = MAX_BODY) -> BodyLimit:
    return BodyLimit(DeskhandASGIHandler(threads=threads), max_bytes=max_body)
