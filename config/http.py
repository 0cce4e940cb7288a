"""HTTP for the ASGI server: Django's request handler run in one hop to its sync thread.

Every view and middleware of the portal is synchronous. Django's own ASGI handler runs such
a stack by hopping between the event loop and its sync thread several times per request
(signals, the middleware chain, URL resolution, the view), about a millisecond of pure
overhead each time on a busy machine. Here the whole request — signals, middleware, view,
rendering — runs in the sync thread in one go through Django's WSGI handler, exactly as under
a WSGI server, and the event loop only moves bytes. Websockets are untouched (channels).

Non-streaming responses are sent with two messages after the thread returns; streaming
responses are produced chunk by chunk in the thread and sent from the event loop. The
response is always closed, which fires ``request_finished`` (closing old database
connections) as WSGI servers do.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from tempfile import SpooledTemporaryFile
from typing import IO, Any

from asgiref.sync import sync_to_async
from django.core.handlers.wsgi import WSGIHandler
from django.http import HttpResponseBase

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

BODY_IN_MEMORY = 1024 * 1024  # request bodies above this spill to a temporary file


def wsgi_environ(scope: Scope, body: IO[bytes]) -> dict[str, Any]:
    """The WSGI environ for an ASGI HTTP scope (PEP 3333 names, latin-1 header values)."""
    path = scope["path"]
    root_path = scope.get("root_path", "")
    if root_path and path.startswith(root_path):
        path = path[len(root_path) :]
    environ: dict[str, Any] = {
        "REQUEST_METHOD": scope["method"],
        "SCRIPT_NAME": root_path,
        "PATH_INFO": path.encode("utf-8").decode("latin-1"),
        "QUERY_STRING": scope["query_string"].decode("ascii"),
        "SERVER_PROTOCOL": f"HTTP/{scope.get('http_version', '1.1')}",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scope.get("scheme", "http"),
        "wsgi.input": body,
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    server = scope.get("server") or ("localhost", 80)
    environ["SERVER_NAME"], environ["SERVER_PORT"] = server[0], str(server[1] or 0)
    client = scope.get("client")
    if client:
        environ["REMOTE_ADDR"], environ["REMOTE_PORT"] = client[0], str(client[1])
    for raw_name, raw_value in scope.get("headers", []):
        name = raw_name.decode("latin-1").upper().replace("-", "_")
        value = raw_value.decode("latin-1")
        key = name if name in ("CONTENT_LENGTH", "CONTENT_TYPE") else f"HTTP_{name}"
        if key in environ:  # repeated header: one value, as WSGI servers join them
            value = f"{environ[key]}{'; ' if key == 'HTTP_COOKIE' else ','}{value}"
        environ[key] = value
    return environ


class _Lanes:
    """``count`` request threads, like a threaded WSGI server's.

    A request holds one lane (a single-thread executor) for all of its sync work: a
    streaming response's chunks must come from the thread, and so the database connection,
    that began it. Requests wait for a free lane in arrival order.
    """

    def __init__(self, count: int) -> None:
        self.executors = [
            ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"http-{i}") for i in range(count)
        ]
        self._free: asyncio.Queue[ThreadPoolExecutor] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _queue(self) -> asyncio.Queue[ThreadPoolExecutor]:
        loop = asyncio.get_running_loop()
        if self._free is None or self._loop is not loop:  # first use, or a new event loop
            self._free, self._loop = asyncio.Queue(), loop
            for executor in self.executors:
                self._free.put_nowait(executor)
        return self._free

    @contextlib.asynccontextmanager
    async def lane(self) -> AsyncIterator[Callable[..., Awaitable[Any]]]:
        queue = self._queue()
        executor = await queue.get()
        loop = asyncio.get_running_loop()

        def run(func: Callable[..., Any], *args: Any) -> Awaitable[Any]:
            return loop.run_in_executor(executor, func, *args)

        try:
            yield run
        finally:
            queue.put_nowait(executor)


def _sync_thread(func: Callable[..., Any], *args: Any) -> Awaitable[Any]:
    return sync_to_async(func)(*args)


@contextlib.asynccontextmanager
async def _one_sync_thread() -> AsyncIterator[Callable[..., Awaitable[Any]]]:
    yield _sync_thread


class DjangoHTTP:
    """An ASGI app serving HTTP with Django's WSGI handler in the sync thread.

    With ``threads`` > 1 requests run on that many threads of their own instead (as in a
    threaded WSGI server), so one process keeps serving while a request waits on the
    database. With 1 they share asgiref's sync thread, which async code can call back
    into (``async_to_sync`` returns to this event loop, as the in-memory channel layer
    of single-process development needs).
    """

    def __init__(self, handler: WSGIHandler | None = None, *, threads: int = 1) -> None:
        self.handler = handler or WSGIHandler()
        self.lanes = _Lanes(threads) if threads > 1 else None

    def _lane(self) -> contextlib.AbstractAsyncContextManager[Callable[..., Awaitable[Any]]]:
        return self.lanes.lane() if self.lanes is not None else _one_sync_thread()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            raise ValueError(f"DjangoHTTP serves HTTP only, not {scope['type']!r}")
        with SpooledTemporaryFile(max_size=BODY_IN_MEMORY) as body:
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return
                body.write(message.get("body", b""))
                if not message.get("more_body"):
                    break
            body.seek(0)
            async with self._lane() as run:
                start, content, response = await run(self._respond, scope, body)
                if isinstance(content, bytes):
                    await send(start)
                    await send({"type": "http.response.body", "body": content})
                    return
                # A streaming response: each chunk is produced in the request's thread (it may
                # query the database) and sent from here; the response is closed there too.
                try:
                    await send(start)
                    while (chunk := await run(_next_chunk, content)) is not None:
                        if chunk:
                            await send(
                                {"type": "http.response.body", "body": chunk, "more_body": True}
                            )
                    await send({"type": "http.response.body", "body": b""})
                finally:
                    await run(_close, response)

    def _respond(
        self, scope: Scope, body: IO[bytes]
    ) -> tuple[Message, bytes | Iterator[bytes], Iterable[bytes]]:
        started: dict[str, Any] = {}

        def start_response(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Callable[[bytes], None]:
            started["message"] = {
                "type": "http.response.start",
                "status": int(status.split(" ", 1)[0]),
                "headers": [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers],
            }
            return _write_unsupported

        response: Iterable[bytes] = self.handler(wsgi_environ(scope, body), start_response)
        if isinstance(response, HttpResponseBase) and not response.streaming:
            # The common case: the whole body is already in memory.
            try:
                return started["message"], b"".join(response), response
            finally:
                _close(response)
        try:
            return started["message"], iter(response), response
        except BaseException:
            _close(response)
            raise


def _next_chunk(chunks: Iterator[bytes]) -> bytes | None:
    return next(chunks, None)


def _close(response: Iterable[bytes]) -> None:
    """WSGI servers close the response: Django then fires ``request_finished``."""
    close = getattr(response, "close", None)
    if close is not None:
        close()


def _write_unsupported(data: bytes) -> None:
    raise RuntimeError("the WSGI write() callable is not supported; return an iterable")
