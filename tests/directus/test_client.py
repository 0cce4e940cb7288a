"""The Directus client: retries idempotent reads, one error type, no calls in transactions."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.db import transaction

from directus.client import DirectusClient, DirectusError


class FlakyHandler(BaseHTTPRequestHandler):
    statuses: list[int] = []
    seen: list[tuple[str, str, str]] = []

    def _answer(self) -> None:
        FlakyHandler.seen.append((self.command, self.path, self.headers.get("Authorization", "")))
        status = FlakyHandler.statuses.pop(0) if FlakyHandler.statuses else 200
        body = json.dumps(
            {"data": {"id": 1}} if status == 200 else {"errors": [{"message": "nope"}]}
        )
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body.encode())

    do_GET = do_PATCH = _answer

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    FlakyHandler.statuses, FlakyHandler.seen = [], []
    httpd = HTTPServer(("127.0.0.1", 0), FlakyHandler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def client(url: str) -> DirectusClient:
    return DirectusClient(base_url=url, token="tok", timeout=2, backoff=0.01)


def test_reads_are_retried_on_503_then_succeed(server: str) -> None:
    FlakyHandler.statuses = [503, 502]
    assert client(server).item_get("docs", 1) == {"id": 1}
    assert len(FlakyHandler.seen) == 3
    assert FlakyHandler.seen[0][2] == "Bearer tok"


def test_reads_give_up_after_the_attempts(server: str) -> None:
    FlakyHandler.statuses = [503, 503, 503]
    with pytest.raises(DirectusError) as caught:
        client(server).item_get("docs", 1)
    assert caught.value.status == 503


def test_writes_are_not_retried(server: str) -> None:
    FlakyHandler.statuses = [503]
    with pytest.raises(DirectusError):
        client(server).item_update("docs", 1, {"title": "x"})
    assert len(FlakyHandler.seen) == 1


def test_a_403_is_reported_as_not_found(server: str) -> None:
    FlakyHandler.statuses = [403]
    with pytest.raises(DirectusError) as caught:
        client(server).item_get("docs", 99)
    assert caught.value.not_found and "nope" in str(caught.value)


def test_an_unreachable_server_is_one_directus_error() -> None:
    with pytest.raises(DirectusError):
        DirectusClient(base_url="http://127.0.0.1:9", token="", timeout=0.5, backoff=0.01).item_get(
            "docs", 1
        )
    assert (
        DirectusClient(base_url="http://127.0.0.1:9", token="", timeout=0.5).server_ping() is False
    )


@pytest.mark.django_db
def test_calling_directus_inside_a_transaction_is_refused(server: str) -> None:
    with transaction.atomic(), pytest.raises(RuntimeError, match="transaction"):
        client(server).item_get("docs", 1)
    assert client(server).item_get("docs", 1) == {"id": 1}  # fine outside
