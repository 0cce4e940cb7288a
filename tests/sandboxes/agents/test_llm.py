"""The OpenAI-compatible client against a local server speaking the streaming protocol."""

from __future__ import annotations

import socket
import threading
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest

from sandboxes.agents.cancel import CancelFlag, Cancelled
from sandboxes.agents.llm import LLMClient, LLMConfig, LLMError, retry_after_seconds
from sandboxes.agents.profiles import FIXER
from sandboxes.agents.providers import provider_build
from sandboxes.agents.scripted import StepListError
from tests.sandboxes.agents.conftest import (
    FakeLLMServer,
    RecordingSleep,
    Reply,
    sse,
    text_chunk,
    tool_call_reply,
    tool_chunk,
    usage_chunk,
)

MESSAGES = [{"role": "user", "content": "hello"}]


def test_text_streams_as_deltas_and_records_usage(
    llm_server: FakeLLMServer, llm_client: LLMClient
) -> None:
    llm_server.add(
        Reply(
            chunks=sse(
                text_chunk("Hel"),
                text_chunk("lo, "),
                text_chunk("world", finish="stop"),
                usage_chunk(12, 3),
            )
        )
    )
    deltas: list[str] = []

    completion = llm_client.complete(MESSAGES, on_text=deltas.append)

    assert deltas == ["Hel", "lo, ", "world"]
    assert completion.content == "Hello, world"
    assert completion.tool_calls == []
    assert completion.finish_reason == "stop"
    assert completion.usage is not None
    assert (completion.usage.prompt_tokens, completion.usage.completion_tokens) == (12, 3)
    assert completion.provider == "openai-compatible"
    request = llm_server.requests[0]
    assert request["path"] == "/v1/chat/completions"
    assert request["body"]["stream"] is True
    assert request["body"]["stream_options"] == {"include_usage": True}
    assert request["body"]["model"] == "fake-model"
    assert llm_server.headers[0]["Authorization"] == "Bearer sekrit"


def test_stream_iterator_yields_text_then_completion(
    llm_server: FakeLLMServer, llm_client: LLMClient
) -> None:
    llm_server.add(Reply(chunks=sse(text_chunk("a"), text_chunk("b", finish="stop"))))

    items = list(llm_client.stream(MESSAGES))

    assert items[:2] == ["a", "b"]
    assert items[-1].content == "ab"  # type: ignore[union-attr]
    assert len(items) == 3


def test_tool_calls_split_across_chunks_are_assembled_by_index(
    llm_server: FakeLLMServer, llm_client: LLMClient
) -> None:
    llm_server.add(
        Reply(
            chunks=sse(
                tool_chunk(0, call_id="call_a", name="write_", arguments=""),
                tool_chunk(0, name="file", arguments='{"path": "a.t'),
                tool_chunk(1, call_id="call_b", name="shell", arguments='{"comm'),
                tool_chunk(0, arguments='xt", "content": "hi"}'),
                tool_chunk(1, arguments='and": "cat a.txt"}', finish="tool_calls"),
                usage_chunk(40, 9),
            )
        )
    )
    tools = [{"type": "function", "function": {"name": "shell", "parameters": {}}}]

    completion = llm_client.complete(MESSAGES, tools=tools)

    assert [(c.id, c.name, c.arguments) for c in completion.tool_calls] == [
        ("call_a", "write_file", '{"path": "a.txt", "content": "hi"}'),
        ("call_b", "shell", '{"command": "cat a.txt"}'),
    ]
    assert completion.finish_reason == "tool_calls"
    assert llm_server.requests[0]["body"]["tools"] == tools
    message = completion.as_message()
    assert message["tool_calls"][1]["function"]["name"] == "shell"


def test_429_is_retried_after_the_retry_after_delay(
    llm_server: FakeLLMServer, llm_client: LLMClient, sleeps: RecordingSleep
) -> None:
    llm_server.add(
        Reply(
            status=429,
            headers={"Retry-After": "2", "Content-Type": "application/json"},
            chunks=[b'{"error": {"message": "slow down"}}'],
        ),
        Reply(chunks=sse(text_chunk("ok", finish="stop"))),
    )

    completion = llm_client.complete(MESSAGES)

    assert completion.content == "ok"
    assert len(llm_server.requests) == 2
    assert sleeps.calls == [2.0]


def test_5xx_is_retried_with_backoff_then_raises(
    llm_server: FakeLLMServer, llm_client: LLMClient, sleeps: RecordingSleep
) -> None:
    llm_server.add(*[Reply(status=503, chunks=[b"overloaded"]) for _ in range(4)])

    with pytest.raises(LLMError) as caught:
        llm_client.complete(MESSAGES)

    assert caught.value.kind == "http_status"
    assert caught.value.status == 503
    assert "overloaded" in str(caught.value)
    assert len(llm_server.requests) == 4  # the first try and max_retries=3 more
    assert sleeps.calls == [0.5, 1.0, 2.0]


def test_client_errors_are_not_retried(
    llm_server: FakeLLMServer, llm_client: LLMClient, sleeps: RecordingSleep
) -> None:
    llm_server.add(
        Reply(
            status=400,
            headers={"Content-Type": "application/json"},
            chunks=[b'{"error": {"message": "model not found"}}'],
        )
    )

    with pytest.raises(LLMError, match="model not found") as caught:
        llm_client.complete(MESSAGES)

    assert caught.value.status == 400
    assert len(llm_server.requests) == 1
    assert sleeps.calls == []


def test_garbage_body_is_malformed(llm_server: FakeLLMServer, llm_client: LLMClient) -> None:
    llm_server.add(Reply(headers={"Content-Type": "text/html"}, chunks=[b"<html>oops</html>"]))

    with pytest.raises(LLMError) as caught:
        llm_client.complete(MESSAGES)

    assert caught.value.kind == "malformed"


def test_invalid_json_in_an_event_is_malformed(
    llm_server: FakeLLMServer, llm_client: LLMClient
) -> None:
    llm_server.add(Reply(chunks=[b'data: {"choices": [\n\n', b"data: [DONE]\n\n"]))

    with pytest.raises(LLMError) as caught:
        llm_client.complete(MESSAGES)

    assert caught.value.kind == "malformed"


def test_stream_cut_short_is_an_error(llm_server: FakeLLMServer, llm_client: LLMClient) -> None:
    llm_server.add(Reply(chunks=sse(text_chunk("partial"), done=False)))

    with pytest.raises(LLMError, match="ended before"):
        llm_client.complete(MESSAGES)


def test_a_non_streaming_json_answer_is_accepted(
    llm_server: FakeLLMServer, llm_client: LLMClient
) -> None:
    body = (
        b'{"model": "m", "choices": [{"index": 0, "finish_reason": "stop", '
        b'"message": {"role": "assistant", "content": "whole"}}], '
        b'"usage": {"prompt_tokens": 5, "completion_tokens": 1}}'
    )
    llm_server.add(Reply(headers={"Content-Type": "application/json"}, chunks=[body]))

    completion = llm_client.complete(MESSAGES)

    assert completion.content == "whole"
    assert completion.usage is not None and completion.usage.total_tokens == 6


def test_unreachable_port_is_unreachable() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = LLMClient(LLMConfig(base_url=f"http://127.0.0.1:{port}/v1", model="m"))

    with pytest.raises(LLMError) as caught:
        client.complete(MESSAGES)

    assert caught.value.kind == "unreachable"
    assert f"127.0.0.1:{port}" in str(caught.value)


def test_silent_server_times_out(llm_server: FakeLLMServer) -> None:
    llm_server.add(Reply(chunks=sse(text_chunk("late", finish="stop")), delay=1.0))
    client = LLMClient(LLMConfig(base_url=llm_server.url, model="m", read_timeout=0.2))

    with pytest.raises(LLMError) as caught:
        client.complete(MESSAGES)

    assert caught.value.kind == "timeout"


def test_cancel_stops_a_stream(llm_server: FakeLLMServer, llm_client: LLMClient) -> None:
    llm_server.add(Reply(chunks=sse(*[text_chunk("x") for _ in range(50)]), delay=0.01))
    cancel = CancelFlag()
    seen: list[str] = []

    def on_text(text: str) -> None:
        seen.append(text)
        if len(seen) == 3:
            cancel.cancel()

    with pytest.raises(Cancelled):
        llm_client.complete(MESSAGES, on_text=on_text, cancel=cancel)

    assert len(seen) == 3


def test_retry_after_accepts_seconds_and_http_dates() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert retry_after_seconds("3") == 3.0
    assert (
        retry_after_seconds(format_datetime(now + timedelta(seconds=7), usegmt=True), now=now)
        == 7.0
    )
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds(None) is None


def test_config_from_settings_requires_a_base_url(settings) -> None:
    settings.LLM_BASE_URL = ""
    with pytest.raises(LLMError, match="LLM_BASE_URL"):
        LLMConfig.from_settings()

    settings.LLM_BASE_URL = "http://127.0.0.1:11434/v1"
    settings.LLM_MODEL = "qwen"
    settings.LLM_API_KEY = "k"
    config = LLMConfig.from_settings(model="override")
    assert (config.base_url, config.model, config.api_key) == (
        "http://127.0.0.1:11434/v1",
        "override",
        "k",
    )
    assert LLMConfig.from_settings().model == "qwen"


def test_tool_call_reply_helper_round_trips(
    llm_server: FakeLLMServer, llm_client: LLMClient
) -> None:
    llm_server.add(tool_call_reply("c1", "read_file", {"path": "x.txt"}, pieces=4))

    completion = llm_client.complete(MESSAGES)

    assert completion.tool_calls[0].arguments == '{"path": "x.txt"}'
    assert completion.usage is not None and completion.usage.total_tokens == 120


def test_retry_after_is_really_waited_by_default(llm_server: FakeLLMServer) -> None:
    llm_server.add(
        Reply(status=429, headers={"Retry-After": "1"}, chunks=[b"busy"]),
        Reply(chunks=sse(text_chunk("ok", finish="stop"))),
    )
    client = LLMClient(LLMConfig(base_url=llm_server.url, model="m"))
    started = time.monotonic()

    assert client.complete(MESSAGES).content == "ok"

    assert time.monotonic() - started >= 1.0
    assert len(llm_server.requests) == 2


def test_provider_build_picks_scripted_for_a_step_list(settings: Any) -> None:
    scripted = provider_build(profile=FIXER, steps=[{"finish": "x"}])
    assert scripted.provider == "scripted"
    with pytest.raises(StepListError):
        provider_build(profile=FIXER, steps=[{"tool": "nope"}])

    settings.LLM_BASE_URL = "http://127.0.0.1:11434/v1"
    settings.LLM_MODEL = "qwen"
    client = provider_build(profile=FIXER)
    assert (client.provider, client.model) == ("openai-compatible", "qwen")


def test_a_retry_after_longer_than_the_backoff_cap_gives_up_at_once(
    llm_server: FakeLLMServer, llm_client: LLMClient, sleeps: RecordingSleep
) -> None:
    llm_server.add(Reply(status=429, headers={"Retry-After": "3600"}, chunks=[b"quota"]))

    with pytest.raises(LLMError, match="retry after 3600 s") as caught:
        llm_client.complete(MESSAGES)

    assert caught.value.status == 429
    assert sleeps.calls == []
    assert len(llm_server.requests) == 1


def test_cancel_interrupts_waiting_for_a_thinking_model(
    llm_server: FakeLLMServer, llm_client: LLMClient
) -> None:
    llm_server.add(Reply(chunks=sse(text_chunk("late", finish="stop")), header_delay=3.0))
    cancel = CancelFlag()
    threading.Timer(0.2, cancel.cancel).start()
    started = time.monotonic()

    with pytest.raises(Cancelled):
        llm_client.complete(MESSAGES, cancel=cancel)

    assert time.monotonic() - started < 1.5
