"""A local OpenAI-compatible chat-completions server the tests script response by response."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from sandboxes.agents.llm import LLMClient, LLMConfig
from tests.sandboxes.agents.localdir import LocalDirWorkspace


@dataclass
class Reply:
    status: int = 200
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "text/event-stream"})
    chunks: list[bytes] = field(default_factory=list)
    delay: float = 0.0  # seconds before each chunk
    header_delay: float = 0.0  # seconds before the status line (a model still thinking)


def sse(*events: dict[str, Any], done: bool = True) -> list[bytes]:
    """Server-sent event lines for these chunk objects, then ``data: [DONE]``."""
    lines = [f"data: {json.dumps(event)}\n\n".encode() for event in events]
    if done:
        lines.append(b"data: [DONE]\n\n")
    return lines


def text_chunk(text: str, *, finish: str | None = None) -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "model": "fake-model",
        "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": finish}],
    }


def tool_chunk(
    index: int,
    *,
    call_id: str | None = None,
    name: str | None = None,
    arguments: str | None = None,
    finish: str | None = None,
) -> dict[str, Any]:
    part: dict[str, Any] = {"index": index, "function": {}}
    if call_id:
        part["id"] = call_id
        part["type"] = "function"
    if name is not None:
        part["function"]["name"] = name
    if arguments is not None:
        part["function"]["arguments"] = arguments
    return {
        "model": "fake-model",
        "choices": [{"index": 0, "delta": {"tool_calls": [part]}, "finish_reason": finish}],
    }


def usage_chunk(prompt: int, completion: int) -> dict[str, Any]:
    return {
        "model": "fake-model",
        "choices": [],
        "usage": {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
        },
    }


def tool_call_reply(call_id: str, name: str, args: dict[str, Any], *, pieces: int = 3) -> Reply:
    """One tool call whose arguments arrive split over ``pieces`` chunks."""
    text = json.dumps(args)
    size = max(1, -(-len(text) // pieces))
    parts = [text[i : i + size] for i in range(0, len(text), size)]
    chunks = [tool_chunk(0, call_id=call_id, name=name, arguments="")]
    chunks += [tool_chunk(0, arguments=part) for part in parts]
    chunks += [
        {
            "model": "fake-model",
            "choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}],
        }
    ]
    chunks.append(usage_chunk(100, 20))
    return Reply(chunks=sse(*chunks))


class FakeLLMServer:
    def __init__(self) -> None:
        self.replies: list[Reply] = []
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = json.loads(self.rfile.read(length) or b"{}")
                with server._lock:
                    server.requests.append({"path": self.path, "body": body})
                    server.headers.append(dict(self.headers))
                    reply = server.replies.pop(0) if server.replies else Reply(status=500)
                if reply.header_delay:
                    time.sleep(reply.header_delay)
                self.send_response(reply.status)
                for key, value in reply.headers.items():
                    self.send_header(key, value)
                self.end_headers()
                try:
                    for chunk in reply.chunks:
                        if reply.delay:
                            time.sleep(reply.delay)
                        self.wfile.write(chunk)
                        self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.httpd.block_on_close = False
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self._thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    def add(self, *replies: Reply) -> None:
        self.replies.extend(replies)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join(timeout=5)


@pytest.fixture
def llm_server() -> Iterator[FakeLLMServer]:
    server = FakeLLMServer()
    try:
        yield server
    finally:
        server.close()


class RecordingSleep:
    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float, cancel: object = None) -> None:
        self.calls.append(seconds)


@pytest.fixture
def sleeps() -> RecordingSleep:
    return RecordingSleep()


@pytest.fixture
def llm_client(llm_server: FakeLLMServer, sleeps: RecordingSleep) -> Iterator[LLMClient]:
    config = LLMConfig(
        base_url=llm_server.url, model="fake-model", api_key="sekrit", read_timeout=5
    )
    client = LLMClient(config, sleep=sleeps)
    try:
        yield client
    finally:
        client.close()


@pytest.fixture
def workspace(tmp_path: Path) -> LocalDirWorkspace:
    root = tmp_path / "workspace"
    root.mkdir()
    return LocalDirWorkspace(root)


class EventLog:
    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []

    def __call__(self, kind: str, data: dict[str, Any]) -> None:
        json.dumps(data)  # every payload must be JSON-able
        self.events.append((kind, data))

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [data for k, data in self.events if k == kind]

    def kinds(self) -> list[str]:
        return [k for k, _ in self.events]


@pytest.fixture
def events() -> EventLog:
    return EventLog()
