"""The ASGI HTTP entry point: Django's handler run in one hop to its sync thread."""

from __future__ import annotations

import asyncio
import io
import itertools
import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.signals import request_finished
from django.http import HttpResponse, StreamingHttpResponse
from django.test import override_settings

from config.http import DjangoHTTP, wsgi_environ

SECRET = "adapter-test-secret"

# Responses are closed like a WSGI server closes them: `request_finished` closes old
# database connections, so even requests that never query need database access here.
pytestmark = pytest.mark.django_db(transaction=True)


def scope_for(
    path: str = "/healthz",
    *,
    method: str = "GET",
    query: bytes = b"",
    headers: list[tuple[bytes, bytes]] | None = None,
    root_path: str = "",
) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": root_path,
        "query_string": query,
        "headers": headers or [(b"host", b"127.0.0.1")],
        "client": ("127.0.0.1", 50123),
        "server": ("127.0.0.1", 8000),
    }


def call(
    app: Any, scope: dict[str, Any], chunks: list[bytes] | None = None
) -> list[dict[str, Any]]:
    """Run one request through ``app``; the body arrives in ``chunks`` (several messages)."""
    pending = list(chunks or [b""])
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        if pending:
            body = pending.pop(0)
            return {"type": "http.request", "body": body, "more_body": bool(pending)}
        await asyncio.Event().wait()  # the client stays connected
        raise AssertionError("unreachable")

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    return sent


def body_of(messages: list[dict[str, Any]]) -> bytes:
    return b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")


def headers_of(messages: list[dict[str, Any]]) -> dict[bytes, bytes]:
    return dict(messages[0]["headers"])


def test_environ_follows_wsgi_conventions() -> None:
    scope = scope_for(
        "/app/docs/café/",
        root_path="/app",
        query=b"q=a%20b&lang=de",
        headers=[
            (b"host", b"portal.example"),
            (b"content-type", b"application/json"),
            (b"content-length", b"2"),
            (b"cookie", b"a=1"),
            (b"cookie", b"b=2"),
            (b"x-forwarded-for", b"10.0.0.1"),
            (b"x-forwarded-for", b"10.0.0.2"),
        ],
    )
    environ = wsgi_environ(scope, io.BytesIO(b"{}"))
    assert environ["SCRIPT_NAME"] == "/app"
    # PEP 3333: PATH_INFO carries the UTF-8 bytes as latin-1 characters.
    assert environ["PATH_INFO"] == "/docs/café/".encode().decode("latin-1")
    assert environ["QUERY_STRING"] == "q=a%20b&lang=de"
    assert environ["CONTENT_TYPE"] == "application/json"
    assert environ["CONTENT_LENGTH"] == "2"
    assert "HTTP_CONTENT_TYPE" not in environ
    assert environ["HTTP_COOKIE"] == "a=1; b=2"
    assert environ["HTTP_X_FORWARDED_FOR"] == "10.0.0.1,10.0.0.2"
    assert environ["REMOTE_ADDR"] == "127.0.0.1"
    assert (environ["SERVER_NAME"], environ["SERVER_PORT"]) == ("127.0.0.1", "8000")
    assert environ["wsgi.input"].read() == b"{}"


def test_a_page_is_served_with_the_middleware_applied() -> None:
    messages = call(DjangoHTTP(), scope_for("/healthz"))
    assert messages[0]["status"] == 200
    assert json.loads(body_of(messages)) == {"status": "ok"}
    assert b"x-request-id" in headers_of(messages)  # the middleware chain ran
    assert len(messages) == 2  # start + the whole body in one message


@override_settings(DIRECTUS_WEBHOOK_SECRET=SECRET)
def test_a_body_in_several_messages_reaches_the_view_whole() -> None:
    """A 1.2 MB body, over the in-memory limit, is spooled and read back intact."""
    big = b'{"pad": "' + b"x" * 1_200_000 + b'"}'
    chunks = [big[i : i + 65536] for i in range(0, len(big), 65536)]
    headers = [
        (b"host", b"127.0.0.1"),
        (b"content-type", b"application/json"),
        (b"content-length", str(len(big)).encode()),
        (b"x-agora-webhook-secret", SECRET.encode()),
    ]
    messages = call(
        DjangoHTTP(), scope_for("/directus/webhook/", method="POST", headers=headers), chunks
    )
    # The view measured the whole body: its own size limit answers, not a parse error.
    assert messages[0]["status"] == 413
    assert json.loads(body_of(messages))["error"]["code"] == "too_large"


@override_settings(DIRECTUS_WEBHOOK_SECRET=SECRET)
def test_post_without_the_secret_is_refused() -> None:
    headers = [(b"host", b"127.0.0.1"), (b"content-type", b"application/json")]
    messages = call(
        DjangoHTTP(), scope_for("/directus/webhook/", method="POST", headers=headers), [b"{}"]
    )
    assert messages[0]["status"] == 401


class TrackedStream(StreamingHttpResponse):
    """A streaming response that records being closed."""

    close_count = 0

    def close(self) -> None:
        TrackedStream.close_count += 1
        super().close()


def test_streaming_responses_go_out_chunk_by_chunk_and_are_closed() -> None:
    TrackedStream.close_count = 0

    def rows() -> Iterator[bytes]:
        for n in range(3):
            yield f"row {n}\n".encode()

    def wsgi_app(environ: dict[str, Any], start_response: Any) -> StreamingHttpResponse:
        response = TrackedStream(rows(), content_type="text/plain")
        start_response("200 OK", list(response.items()))
        return response

    messages = call(DjangoHTTP(wsgi_app), scope_for("/export"))  # type: ignore[arg-type]
    assert messages[0]["status"] == 200
    bodies = [m for m in messages if m["type"] == "http.response.body"]
    assert [m["body"] for m in bodies] == [b"row 0\n", b"row 1\n", b"row 2\n", b""]
    assert all(m["more_body"] for m in bodies[:-1]) and not bodies[-1].get("more_body")
    assert TrackedStream.close_count == 1


def test_a_failing_stream_still_closes_the_response() -> None:
    TrackedStream.close_count = 0

    def rows() -> Iterator[bytes]:
        yield b"first\n"
        raise RuntimeError("the export broke")

    def wsgi_app(environ: dict[str, Any], start_response: Any) -> StreamingHttpResponse:
        response = TrackedStream(rows())
        start_response("200 OK", list(response.items()))
        return response

    with pytest.raises(RuntimeError, match="the export broke"):
        call(DjangoHTTP(wsgi_app), scope_for("/export"))  # type: ignore[arg-type]
    assert TrackedStream.close_count == 1


def test_request_finished_fires_once_per_request() -> None:
    """WSGI servers close the response; that is what closes stale database connections."""
    fired: list[object] = []

    def on_finished(sender: object, **kwargs: object) -> None:
        fired.append(sender)

    request_finished.connect(on_finished)
    try:
        app = DjangoHTTP()
        for _ in range(3):
            assert call(app, scope_for("/healthz"))[0]["status"] == 200
    finally:
        request_finished.disconnect(on_finished)
    assert len(fired) == 3


def test_a_client_that_leaves_before_sending_its_body_gets_nothing() -> None:
    calls: list[str] = []

    def wsgi_app(environ: dict[str, Any], start_response: Any) -> HttpResponse:
        calls.append(environ["PATH_INFO"])
        raise AssertionError("the view must not run")

    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(DjangoHTTP(wsgi_app)(scope_for("/x", method="POST"), receive, send))  # type: ignore[arg-type]
    assert sent == [] and calls == []


def test_websocket_scopes_are_not_http() -> None:
    async def nothing() -> dict[str, Any]:
        return {}

    async def drop(message: dict[str, Any]) -> None:
        return None

    with pytest.raises(ValueError, match="HTTP only"):
        asyncio.run(DjangoHTTP()({"type": "websocket"}, nothing, drop))


def _concurrently(app: Any, count: int) -> list[list[dict[str, Any]]]:
    """Run ``count`` requests through ``app`` at the same time."""

    async def one() -> list[dict[str, Any]]:
        sent: list[dict[str, Any]] = []
        delivered = False

        async def receive() -> dict[str, Any]:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": b"", "more_body": False}
            await asyncio.Event().wait()
            raise AssertionError("unreachable")

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        await app(scope_for("/slow"), receive, send)
        return sent

    async def run() -> list[list[dict[str, Any]]]:
        return list(await asyncio.gather(*(one() for _ in range(count))))

    return asyncio.run(run())


def _slow_app(seen: list[str], started: list[float], delay: float) -> Any:
    import threading
    import time

    def wsgi_app(environ: dict[str, Any], start_response: Any) -> HttpResponse:
        started.append(time.monotonic())
        seen.append(threading.current_thread().name)
        time.sleep(delay)  # a request waiting on the database
        response = HttpResponse(b"done")
        start_response("200 OK", list(response.items()))
        return response

    return wsgi_app


def test_request_threads_serve_requests_side_by_side() -> None:
    seen: list[str] = []
    started: list[float] = []
    results = _concurrently(DjangoHTTP(_slow_app(seen, started, 0.3), threads=3), 3)
    assert [body_of(r) for r in results] == [b"done"] * 3
    assert len(set(seen)) == 3 and all(name.startswith("http-") for name in seen)
    assert max(started) - min(started) < 0.25  # all three began before the first finished


def test_with_one_thread_requests_take_turns() -> None:
    seen: list[str] = []
    started: list[float] = []
    _concurrently(DjangoHTTP(_slow_app(seen, started, 0.1), threads=1), 3)
    assert len(set(seen)) == 1  # asgiref's one sync thread
    gaps = sorted(started)
    assert all(b - a >= 0.09 for a, b in itertools.pairwise(gaps))


def test_more_requests_than_threads_wait_for_a_free_one() -> None:
    seen: list[str] = []
    started: list[float] = []
    results = _concurrently(DjangoHTTP(_slow_app(seen, started, 0.15), threads=2), 5)
    assert all(r[0]["status"] == 200 for r in results)
    assert len(set(seen)) == 2
    first, *rest = sorted(started)
    assert sum(1 for t in rest if t - first < 0.1) == 1  # two at a time


def test_a_streaming_response_is_produced_on_the_thread_that_began_it() -> None:
    import threading

    threads: list[str] = []

    def rows() -> Iterator[bytes]:
        for n in range(4):
            threads.append(threading.current_thread().name)
            yield f"row {n}\n".encode()

    def wsgi_app(environ: dict[str, Any], start_response: Any) -> StreamingHttpResponse:
        threads.append(threading.current_thread().name)
        response = TrackedStream(rows(), content_type="text/plain")
        start_response("200 OK", list(response.items()))
        return response

    TrackedStream.close_count = 0
    results = _concurrently(DjangoHTTP(wsgi_app, threads=4), 1)  # type: ignore[arg-type]
    assert body_of(results[0]) == b"row 0\nrow 1\nrow 2\nrow 3\n"
    assert len(set(threads)) == 1 and threads[0].startswith("http-")
    assert TrackedStream.close_count == 1
