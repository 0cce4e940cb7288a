"""A small typed client for the OpenAI-compatible chat-completions protocol.

Ollama, vLLM, llama.cpp's server and hosted APIs all speak it. Requests always stream
(``stream: true``): text deltas reach the caller as they arrive so a run's viewers watch the
model think, and tool calls split across chunks are reassembled by index. Every failure is
one ``LLMError`` with a ``kind`` the run can show to its owner.
"""

from __future__ import annotations

import email.utils
import json
import queue
import threading
import time
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

import httpx

from sandboxes.agents.cancel import (
    CancelFlag,
    Cancelled,
    CancelSignal,
    cancel_requested,
    cancellable_sleep,
)

Message = dict[str, Any]
TextCallback = Callable[[str], None]
LLMErrorKind = Literal["unreachable", "http_status", "malformed", "timeout"]

# Statuses worth another try: rate limiting and the server's own failures.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


class LLMError(Exception):
    """The model endpoint could not give a usable answer.

    ``kind`` is one of ``unreachable`` (connection refused or dropped), ``http_status``
    (an error status, after retries; ``status`` holds it), ``malformed`` (the body is not
    the streaming protocol) or ``timeout``.
    """

    def __init__(self, message: str, *, kind: LLMErrorKind, status: int | None = None) -> None:
        super().__init__(message)
        self.kind: LLMErrorKind = kind
        self.status = status

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "status": self.status, "message": str(self)}


@dataclass
class ToolCall:
    """One function call requested by the model; ``arguments`` is the raw JSON text."""

    id: str
    name: str
    arguments: str

    def as_message_part(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": "function",
            "function": {"name": self.name, "arguments": self.arguments},
        }


@dataclass
class TokenUsage:
    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def add(self, other: TokenUsage) -> None:
        self.prompt_tokens += other.prompt_tokens
        self.completion_tokens += other.completion_tokens

    def as_dict(self) -> dict[str, int]:
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.total_tokens,
        }


@dataclass
class Completion:
    """One assistant turn: text, tool calls, why it stopped and what it cost."""

    content: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    finish_reason: str | None = None
    usage: TokenUsage | None = None
    model: str = ""
    provider: str = ""

    def as_message(self) -> Message:
        message: Message = {"role": "assistant", "content": self.content or None}
        if self.tool_calls:
            message["tool_calls"] = [call.as_message_part() for call in self.tool_calls]
        return message


class ChatProvider(Protocol):
    """What the agent loop needs from a model: the HTTP client and the scripted provider."""

    provider: str  # "openai-compatible" | "scripted"
    model: str

    def complete(
        self,
        messages: Sequence[Message],
        *,
        tools: Sequence[dict[str, Any]] | None = None,
        on_text: TextCallback | None = None,
        cancel: CancelSignal | None = None,
        max_tokens: int | None = None,
    ) -> Completion: ...


@dataclass(frozen=True)
class LLMConfig:
    base_url: str  # up to and including /v1
    model: str
    api_key: str = ""
    connect_timeout: float = 5.0
    read_timeout: float = 120.0  # longest silence between two chunks
    total_timeout: float = 600.0  # whole request, streaming included
    max_retries: int = 3
    backoff_base: float = 0.5
    backoff_max: float = 30.0
    include_usage: bool = True  # send stream_options.include_usage

    @classmethod
    def from_settings(cls, *, model: str = "") -> LLMConfig:
        from django.conf import settings

        if not settings.LLM_BASE_URL:
            raise LLMError(
                "no model endpoint is configured (set LLM_BASE_URL) — use a scripted run",
                kind="unreachable",
            )
        return cls(
            base_url=settings.LLM_BASE_URL,
            model=model or settings.LLM_MODEL,
            api_key=settings.LLM_API_KEY,
        )


def retry_after_seconds(value: str | None, *, now: datetime | None = None) -> float | None:
    """``Retry-After`` as seconds: delta-seconds or an HTTP date; ``None`` when absent/bad."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class _StreamAssembler:
    """Folds streamed chunks into one ``Completion``."""

    def __init__(self) -> None:
        self.content: list[str] = []
        self.calls: dict[int, ToolCall] = {}
        self.finish_reason: str | None = None
        self.usage: TokenUsage | None = None
        self.model = ""
        self.chunks = 0

    def feed(self, chunk: Any) -> str:
        """Apply one decoded chunk; return its text delta ('' if none)."""
        if not isinstance(chunk, dict):
            raise LLMError("stream chunk is not a JSON object", kind="malformed")
        if "error" in chunk:
            error = chunk["error"]
            detail = error.get("message", error) if isinstance(error, dict) else error
            raise LLMError(f"model server reported an error: {detail}", kind="http_status")
        self.chunks += 1
        self.model = chunk.get("model") or self.model
        usage = chunk.get("usage")
        if isinstance(usage, dict):
            self.usage = TokenUsage(
                prompt_tokens=int(usage.get("prompt_tokens") or 0),
                completion_tokens=int(usage.get("completion_tokens") or 0),
            )
        choices = chunk.get("choices")
        if choices is None and usage is None:
            raise LLMError("stream chunk has neither choices nor usage", kind="malformed")
        text = ""
        for choice in choices or []:
            if not isinstance(choice, dict):
                raise LLMError("stream choice is not a JSON object", kind="malformed")
            if choice.get("finish_reason"):
                self.finish_reason = choice["finish_reason"]
            # Non-streaming servers answer with "message"; streaming ones with "delta".
            delta = choice.get("delta") or choice.get("message") or {}
            piece = delta.get("content")
            if isinstance(piece, str) and piece:
                self.content.append(piece)
                text += piece
            for position, part in enumerate(delta.get("tool_calls") or []):
                self._feed_tool_call(position, part)
        return text

    def _feed_tool_call(self, position: int, part: Any) -> None:
        if not isinstance(part, dict):
            raise LLMError("tool call delta is not a JSON object", kind="malformed")
        index = part.get("index", position)
        if not isinstance(index, int):
            raise LLMError("tool call delta has a non-integer index", kind="malformed")
        call = self.calls.setdefault(index, ToolCall(id="", name="", arguments=""))
        if part.get("id"):
            call.id = str(part["id"])
        function = part.get("function") or {}
        name = function.get("name")
        # Some servers repeat the whole name in every chunk, others split it.
        if isinstance(name, str) and name and name != call.name:
            call.name += name
        arguments = function.get("arguments")
        if isinstance(arguments, str):
            call.arguments += arguments
        elif isinstance(arguments, dict):  # a few servers send an object, not a string
            call.arguments += json.dumps(arguments)

    def result(self, *, provider: str, model: str) -> Completion:
        if not self.chunks and self.usage is None:
            raise LLMError("the response held no completion data", kind="malformed")
        calls = []
        for index in sorted(self.calls):
            call = self.calls[index]
            if not call.name:
                raise LLMError(f"tool call #{index} arrived without a name", kind="malformed")
            calls.append(
                ToolCall(id=call.id or f"call_{index}", name=call.name, arguments=call.arguments)
            )
        return Completion(
            content="".join(self.content),
            tool_calls=calls,
            finish_reason=self.finish_reason,
            usage=self.usage,
            model=self.model or model,
            provider=provider,
        )


class LLMClient:
    """Chat completions over HTTP; ``complete()`` for a callback, ``stream()`` to iterate."""

    provider = "openai-compatible"

    def __init__(
        self,
        config: LLMConfig,
        *,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float, CancelSignal | None], None] = cancellable_sleep,
    ) -> None:
        self.config = config
        self.model = config.model
        self._sleep = sleep
        headers = {"Accept": "text/event-stream"}
        if config.api_key:
            headers["Authorization"] = f"Bearer {config.api_key}"
        self._http = httpx.Client(
            base_url=config.base_url.rstrip("/"),
            headers=headers,
            transport=transport,
            timeout=httpx.Timeout(
                connect=config.connect_timeout,
                read=config.read_timeout,
                write=config.read_timeout,
                pool=config.connect_timeout,
            ),
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> LLMClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def complete(
        self,
        messages: Sequence[Message],
        *,
        tools: Sequence[dict[str, Any]] | None = None,
        on_text: TextCallback | None = None,
        cancel: CancelSignal | None = None,
        max_tokens: int | None = None,
    ) -> Completion:
        for item in self.stream(messages, tools=tools, cancel=cancel, max_tokens=max_tokens):
            if isinstance(item, Completion):
                return item
            if on_text is not None:
                on_text(item)
        raise LLMError("the stream ended without a completion", kind="malformed")  # unreachable

    def stream(
        self,
        messages: Sequence[Message],
        *,
        tools: Sequence[dict[str, Any]] | None = None,
        cancel: CancelSignal | None = None,
        max_tokens: int | None = None,
    ) -> Iterator[str | Completion]:
        """Yield text deltas as they arrive, then the assembled ``Completion`` last."""
        body: dict[str, Any] = {"model": self.model, "messages": list(messages), "stream": True}
        if self.config.include_usage:
            body["stream_options"] = {"include_usage": True}
        if tools:
            body["tools"] = list(tools)
        if max_tokens:
            body["max_tokens"] = max_tokens
        deadline = time.monotonic() + self.config.total_timeout
        if cancel is None:
            yield from self._request(body, cancel=None, deadline=deadline)
        else:
            # A model can think for a minute before its first byte; reading in a thread lets
            # a cancel interrupt that wait instead of only the gaps between chunks.
            yield from _cancellable(
                lambda inner: self._request(body, cancel=inner, deadline=deadline), cancel
            )

    def _request(
        self, body: dict[str, Any], *, cancel: CancelSignal | None, deadline: float
    ) -> Iterator[str | Completion]:
        """The request with its retries: text deltas, then the completion."""
        attempt = 0
        while True:
            if cancel_requested(cancel):
                raise Cancelled("cancelled before the model was asked")
            retry_in = yield from self._attempt(body, cancel=cancel, deadline=deadline)
            if retry_in is None:
                return
            attempt += 1
            if attempt > self.config.max_retries:
                raise retry_in[1]
            delay, error = retry_in
            if delay is None:
                delay = min(
                    self.config.backoff_base * (2 ** (attempt - 1)), self.config.backoff_max
                )
            elif delay > self.config.backoff_max:
                # Retrying sooner than the server asked would only be refused again.
                raise LLMError(
                    f"{error} (the server asks to retry after {delay:g} s)",
                    kind="http_status",
                    status=error.status,
                )
            if time.monotonic() + delay > deadline:
                raise error
            self._sleep(delay, cancel)

    def _attempt(
        self, body: dict[str, Any], *, cancel: CancelSignal | None, deadline: float
    ) -> Generator[str | Completion, None, tuple[float | None, LLMError] | None]:
        # A generator that returns (retry delay or None, error) when the request may be retried.
        try:
            with self._http.stream("POST", "/chat/completions", json=body) as response:
                if response.status_code >= 400:
                    response.read()
                    error = LLMError(
                        f"model endpoint answered HTTP {response.status_code}: "
                        f"{_error_detail(response)}",
                        kind="http_status",
                        status=response.status_code,
                    )
                    if response.status_code in RETRY_STATUSES:
                        return (retry_after_seconds(response.headers.get("Retry-After")), error)
                    raise error
                assembler = _StreamAssembler()
                content_type = response.headers.get("content-type", "")
                if "text/event-stream" not in content_type:
                    # The server ignored stream:true and sent one JSON document.
                    response.read()
                    text = assembler.feed(_json_or_malformed(response.text))
                    if text:
                        yield text
                else:
                    for text in self._read_events(response, assembler, cancel, deadline):
                        yield text
                yield assembler.result(provider=self.provider, model=self.model)
                return None
        except httpx.TimeoutException as exc:
            raise LLMError(
                f"model endpoint timed out ({type(exc).__name__})", kind="timeout"
            ) from exc
        except httpx.TransportError as exc:
            raise LLMError(
                f"model endpoint {self.config.base_url} is unreachable: "
                f"{exc or type(exc).__name__}",
                kind="unreachable",
            ) from exc

    def _read_events(
        self,
        response: httpx.Response,
        assembler: _StreamAssembler,
        cancel: CancelSignal | None,
        deadline: float,
    ) -> Iterator[str]:
        done = False
        for line in response.iter_lines():
            if cancel_requested(cancel):
                raise Cancelled("cancelled while the model was answering")
            if time.monotonic() > deadline:
                raise LLMError(
                    f"model answer took longer than {self.config.total_timeout:g} s",
                    kind="timeout",
                )
            if not line or line.startswith(":"):
                continue  # keep-alive comment or event separator
            if not line.startswith("data:"):
                if line.split(":", 1)[0] in {"event", "id", "retry"}:
                    continue
                raise LLMError(f"not a server-sent event line: {line[:80]!r}", kind="malformed")
            data = line[5:].strip()
            if data == "[DONE]":
                done = True
                break
            text = assembler.feed(_json_or_malformed(data))
            if text:
                yield text
        if not done and not assembler.finish_reason:
            raise LLMError("the stream ended before the answer was complete", kind="unreachable")


def _cancellable(
    produce: Callable[[CancelSignal], Iterator[str | Completion]], cancel: CancelSignal
) -> Iterator[str | Completion]:
    """Run ``produce`` in a thread and re-yield its items here, raising ``Cancelled`` as soon
    as ``cancel`` is set even while the thread is blocked reading; the thread then stops at
    its next chunk (or its read timeout) and closes the connection."""
    inner = CancelFlag()
    items: queue.Queue[tuple[str, Any]] = queue.Queue()

    def run() -> None:
        try:
            for item in produce(inner):
                items.put(("item", item))
            items.put(("end", None))
        except BaseException as exc:  # handed to the consuming thread
            items.put(("error", exc))

    threading.Thread(target=run, name="llm-stream", daemon=True).start()
    try:
        while True:
            try:
                kind, value = items.get(timeout=0.05)
            except queue.Empty:
                if cancel_requested(cancel):
                    raise Cancelled("cancelled while waiting for the model") from None
                continue
            if kind == "end":
                return
            if kind == "error":
                raise value
            yield value
            if cancel_requested(cancel):
                raise Cancelled("cancelled while the model was answering")
    finally:
        inner.cancel()


def _json_or_malformed(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        raise LLMError(f"the response is not JSON: {text[:80]!r}", kind="malformed") from None


def _error_detail(response: httpx.Response) -> str:
    try:
        payload = response.json()
    except ValueError:
        return response.text[:200] or response.reason_phrase
    if isinstance(payload, dict) and isinstance(payload.get("error"), dict):
        return str(payload["error"].get("message", payload["error"]))[:200]
    return str(payload)[:200]
