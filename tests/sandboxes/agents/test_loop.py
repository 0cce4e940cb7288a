"""The agent loop: tool-call loops, guardrails, confirmation, cancellation and resume."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import replace
from typing import Any

import pytest

from sandboxes.agents.cancel import CancelFlag, PollingCancel
from sandboxes.agents.llm import LLMClient, LLMConfig
from sandboxes.agents.loop import AgentLoop, LoopState, TokenBatcher, loop_state_new
from sandboxes.agents.profiles import FIXER, RESEARCHER, AgentProfile
from sandboxes.agents.scripted import ScriptedProvider
from sandboxes.agents.workspace import ExecOutcome
from tests.sandboxes.agents.conftest import (
    EventLog,
    FakeLLMServer,
    Reply,
    sse,
    text_chunk,
    tool_call_reply,
    tool_chunk,
    usage_chunk,
)
from tests.sandboxes.agents.localdir import LocalDirWorkspace


def make_loop(
    profile: AgentProfile,
    provider: Any,
    workspace: Any,
    events: EventLog,
    **kwargs: Any,
) -> AgentLoop:
    return AgentLoop(profile=profile, provider=provider, workspace=workspace, emit=events, **kwargs)


def scripted_run(
    profile: AgentProfile, steps: list[dict[str, Any]], workspace: Any, events: EventLog, **kw: Any
) -> tuple[AgentLoop, LoopState]:
    loop = make_loop(profile, ScriptedProvider(steps), workspace, events, **kw)
    state = loop.run(loop_state_new(profile=profile, task="do the thing"))
    return loop, state


def tool_messages(state: LoopState) -> list[str]:
    return [m["content"] for m in state.messages if m["role"] == "tool"]


def test_tool_call_loop_against_the_model_server_ends_with_finish(
    llm_server: FakeLLMServer, workspace: LocalDirWorkspace, events: EventLog
) -> None:
    llm_server.add(
        tool_call_reply("c1", "write_file", {"path": "notes/a.txt", "content": "hello"}),
        tool_call_reply("c2", "shell", {"command": "cat notes/a.txt"}),
        Reply(
            chunks=sse(text_chunk("The file says "), text_chunk("hello."), done=False)
            + tool_call_reply("c3", "finish", {"answer": "It says hello."}).chunks
        ),
    )
    client = LLMClient(LLMConfig(base_url=llm_server.url, model="fake-model"))
    saved: list[str] = []
    loop = make_loop(
        FIXER, client, workspace, events, checkpoint=lambda s: saved.append(json.dumps(s.to_json()))
    )

    state = loop.run(loop_state_new(profile=FIXER, task="Write a note and read it back."))

    assert state.outcome == "succeeded"
    assert state.answer == "It says hello."
    assert (workspace.root / "notes/a.txt").read_text() == "hello"
    assert state.steps == 3 and state.tool_calls == 2
    assert state.usage.total_tokens == 360  # 3 replies of 100 + 20
    # The model saw each observation: the third request carries both tool results.
    third = llm_server.requests[2]["body"]["messages"]
    assert [m["role"] for m in third] == [
        "system",
        "user",
        "assistant",
        "tool",
        "assistant",
        "tool",
    ]
    assert third[5]["tool_call_id"] == "c2" and third[5]["content"].startswith("hello")
    assert third[2]["tool_calls"][0]["function"]["name"] == "write_file"
    assert llm_server.requests[0]["body"]["tools"][0]["function"]["name"] == "shell"
    kinds = events.kinds()
    assert kinds[0] == "state" and events.of("state")[0]["state"] == "running"
    assert kinds.count("tool_call") == 3 and kinds.count("tool_result") == 2
    assert "".join(e["text"] for e in events.of("tokens")) == "The file says hello."
    assert events.of("final") == [{"step": 3, "answer": "It says hello."}]
    assert events.of("state")[-1] == {"step": 3, "state": "succeeded", "reason": ""}
    assert events.of("tool_result")[1]["exit_code"] == 0
    assert json.loads(saved[-1])["outcome"] == "succeeded"


def test_plain_text_answer_is_the_final_answer(
    llm_server: FakeLLMServer, workspace: LocalDirWorkspace, events: EventLog
) -> None:
    llm_server.add(
        Reply(chunks=sse(text_chunk("Nothing to do.", finish="stop"), usage_chunk(5, 3)))
    )
    client = LLMClient(LLMConfig(base_url=llm_server.url, model="fake-model"))

    state = make_loop(RESEARCHER, client, workspace, events).run(
        loop_state_new(profile=RESEARCHER, task="?")
    )

    assert (state.outcome, state.answer) == ("succeeded", "Nothing to do.")


def test_unreachable_model_fails_the_run_with_the_reason(
    workspace: LocalDirWorkspace, events: EventLog
) -> None:
    client = LLMClient(LLMConfig(base_url="http://127.0.0.1:9/v1", model="m"))

    state = make_loop(FIXER, client, workspace, events).run(loop_state_new(profile=FIXER, task="x"))

    assert state.outcome == "failed"
    assert state.reason.startswith(
        "model provider: model endpoint http://127.0.0.1:9/v1 is unreachable"
    )
    assert events.of("error")[0]["kind"] == "unreachable"


def test_scripted_fixer_run_edits_a_file_and_runs_a_command(
    workspace: LocalDirWorkspace, events: EventLog
) -> None:
    steps = [
        {"tool": "write_file", "args": {"path": "a.txt", "content": "hi"}},
        {"tool": "shell", "args": {"command": "cat a.txt"}},
        {"finish": "done"},
    ]
    # `cat` is on the fixer's allowlist, so no confirmation is needed.
    _, state = scripted_run(FIXER, steps, workspace, events)

    assert state.outcome == "succeeded" and state.answer == "done"
    assert tool_messages(state) == ["wrote 2 bytes to a.txt", "hi\n[exit code 0]"]
    assert events.of("usage")[0]["provider"] == "scripted"


def test_step_budget_exceeded_ends_timed_out(
    workspace: LocalDirWorkspace, events: EventLog
) -> None:
    profile = replace(FIXER, max_steps=2)
    steps = [{"tool": "shell", "args": {"command": f"ls {i}"}} for i in range(5)] + [
        {"finish": "x"}
    ]

    _, state = scripted_run(profile, steps, workspace, events)

    assert state.outcome == "timed_out"
    assert state.reason == "step budget used up (2 steps)"
    assert state.steps == 2 and state.tool_calls == 2
    assert events.of("state")[-1]["state"] == "timed_out"
    assert not events.of("final")


def test_token_budget_exceeded_ends_timed_out(
    llm_server: FakeLLMServer, workspace: LocalDirWorkspace, events: EventLog
) -> None:
    llm_server.add(*[tool_call_reply(f"c{i}", "list_files", {}) for i in range(3)])
    client = LLMClient(LLMConfig(base_url=llm_server.url, model="fake-model"))
    profile = replace(FIXER, max_tokens=200)  # each reply costs 120

    state = make_loop(profile, client, workspace, events).run(
        loop_state_new(profile=profile, task="x")
    )

    assert state.outcome == "timed_out"
    assert state.reason == "token budget used up (240 of 200)"
    assert len(llm_server.requests) == 2


def test_time_budget_exceeded_ends_timed_out(
    workspace: LocalDirWorkspace, events: EventLog
) -> None:
    now = [1000.0]

    def clock() -> float:
        now[0] += 40.0  # every reading advances the fake clock
        return now[0]

    profile = replace(FIXER, max_wall_seconds=300)
    steps = [{"tool": "list_files"}] * 20 + [{"finish": "x"}]

    _, state = scripted_run(profile, steps, workspace, events, clock=clock)

    assert state.outcome == "timed_out"
    assert state.reason == "time budget used up (300 s)"
    assert state.elapsed_seconds >= 300


def test_tool_outside_the_profile_is_refused_and_the_model_sees_why(
    workspace: LocalDirWorkspace, events: EventLog
) -> None:
    steps = [
        {"tool": "write_file", "args": {"path": "report.md", "content": "x"}},
        {"tool": "shell", "args": {"command": "rm -rf ."}},
        {"finish": "report"},
    ]

    _, state = scripted_run(RESEARCHER, steps, workspace, events)

    assert state.outcome == "succeeded"
    assert not (workspace.root / "report.md").exists()
    refused = events.of("refused")
    assert [r["name"] for r in refused] == ["write_file", "shell"]
    assert "does not allow the 'write_file' tool" in refused[0]["reason"]
    messages = tool_messages(state)
    assert messages[0].startswith("refused: the researcher profile does not allow")
    assert messages[1].startswith("refused: the researcher profile only runs")
    assert state.tool_calls == 0


def test_confirmation_required_then_denied(workspace: LocalDirWorkspace, events: EventLog) -> None:
    (workspace.root / "important.txt").write_text("keep me")
    steps = [{"tool": "shell", "args": {"command": "rm important.txt"}}, {"finish": "tried"}]
    loop, state = scripted_run(FIXER, steps, workspace, events)

    assert state.outcome == "awaiting_confirmation"
    assert state.awaiting == {
        "call_id": "scripted_0",
        "name": "shell",
        "arguments": {"command": "rm important.txt"},
        "reason": "the command is not on the profile's allowlist",
    }
    assert events.of("confirmation_required")[0]["arguments"] == {"command": "rm important.txt"}
    assert events.of("state")[-1]["state"] == "awaiting_confirmation"
    assert loop.run(state) is state and state.outcome == "awaiting_confirmation"  # stays paused

    # The decision arrives later, possibly in another worker: resume from JSON.
    restored = LoopState.from_json(json.loads(json.dumps(state.to_json())))
    loop = make_loop(FIXER, ScriptedProvider(steps), workspace, events)
    loop.resolve_confirmation(restored, approved=False, by="owner@example.org")
    final = loop.run(restored)

    assert final.outcome == "succeeded"
    assert (workspace.root / "important.txt").read_text() == "keep me"
    assert events.of("confirmation") == [
        {"step": 1, "call_id": "scripted_0", "approved": False, "by": "owner@example.org"}
    ]
    assert tool_messages(final)[0].startswith("denied:")
    assert final.tool_calls == 0
    with pytest.raises(ValueError, match="not waiting"):
        loop.resolve_confirmation(final, approved=True)


def test_confirmation_approved_runs_the_command_once(
    workspace: LocalDirWorkspace, events: EventLog
) -> None:
    steps = [{"tool": "shell", "args": {"command": "echo ran >> log.txt"}}, {"finish": "ok"}]
    loop, state = scripted_run(FIXER, steps, workspace, events)
    assert state.outcome == "awaiting_confirmation"

    loop.resolve_confirmation(state, approved=True)
    loop.run(state)

    assert state.outcome == "succeeded"
    assert (workspace.root / "log.txt").read_text() == "ran\n"
    assert len(events.of("tool_call")) == 2  # the shell call is announced once, then finish


def test_cancellation_mid_tool_stops_the_command_and_the_loop(
    workspace: LocalDirWorkspace, events: EventLog
) -> None:
    profile = replace(FIXER, risky_policy="allow")
    steps = [
        {"tool": "shell", "args": {"command": "sleep 30; touch late.txt"}},
        {"tool": "write_file", "args": {"path": "next.txt", "content": "x"}},
        {"finish": "never"},
    ]
    cancel = CancelFlag()
    threading.Timer(0.3, cancel.cancel).start()
    started = time.monotonic()

    _, state = scripted_run(profile, steps, workspace, events, cancel=cancel)

    assert time.monotonic() - started < 5
    assert state.outcome == "cancelled"
    assert not (workspace.root / "next.txt").exists()
    assert not (workspace.root / "late.txt").exists()
    assert events.of("tool_result")[-1]["output"] == "cancelled while running"
    assert events.of("state")[-1] == {
        "step": 1,
        "state": "cancelled",
        "reason": "cancelled by request",
    }


def test_cancel_before_start_runs_nothing(workspace: LocalDirWorkspace, events: EventLog) -> None:
    cancel = CancelFlag()
    cancel.cancel()
    _, state = scripted_run(FIXER, [{"tool": "list_files"}], workspace, events, cancel=cancel)
    assert state.outcome == "cancelled" and state.steps == 0


class WorkerDied(BaseException):
    """Stands in for the worker process being killed."""


class DyingWorkspace(LocalDirWorkspace):
    def __init__(self, root: Any, *, die_on: str) -> None:
        super().__init__(root)
        self.die_on = die_on

    def exec(self, command: str, *, timeout: float, cancel: Any = None) -> ExecOutcome:
        if self.die_on in command:
            raise WorkerDied
        return super().exec(command, timeout=timeout, cancel=cancel)


def test_state_round_trips_through_json_and_resumes_after_the_worker_dies(
    workspace: LocalDirWorkspace, events: EventLog
) -> None:
    profile = replace(FIXER, risky_policy="allow")
    steps = [
        {"tool": "shell", "args": {"command": "echo one >> log.txt"}},
        {"tool": "shell", "args": {"command": "echo two >> log.txt; DIE"}},
        {"tool": "shell", "args": {"command": "echo three >> log.txt"}},
        {"finish": "resumed"},
    ]
    saved: list[str] = []
    dying = DyingWorkspace(workspace.root, die_on="DIE")
    loop = make_loop(
        profile,
        ScriptedProvider(steps),
        dying,
        events,
        checkpoint=lambda s: saved.append(json.dumps(s.to_json())),
    )
    with pytest.raises(WorkerDied):
        loop.run(loop_state_new(profile=profile, task="count"))

    last = json.loads(saved[-1])
    assert last["in_flight"] == "scripted_1"  # the step that was running when it died
    restored = LoopState.from_json(last)
    assert restored.to_json() == last

    resumed_events = EventLog()
    resumed = make_loop(profile, ScriptedProvider(steps), workspace, resumed_events).run(restored)

    assert resumed.outcome == "succeeded" and resumed.answer == "resumed"
    # Step one ran once, the interrupted step was reported (not re-run), step three ran once.
    assert (workspace.root / "log.txt").read_text() == "one\nthree\n"
    assert resumed_events.of("tool_result")[0]["output"].startswith("interrupted:")
    assert resumed_events.of("state")[0]["state"] == "running"
    assert [m["role"] for m in resumed.messages].count("assistant") == 4


def test_resume_between_steps_continues_with_the_next_step(
    workspace: LocalDirWorkspace, events: EventLog
) -> None:
    profile = replace(FIXER, risky_policy="allow")
    steps = [
        {"tool": "shell", "args": {"command": "echo one >> log.txt"}},
        {"tool": "shell", "args": {"command": "echo two >> log.txt"}},
        {"finish": "ok"},
    ]
    saved: list[dict[str, Any]] = []

    class DiesOnSecondAsk(ScriptedProvider):
        def complete(self, messages: Any, **kwargs: Any) -> Any:
            if sum(1 for m in messages if m["role"] == "assistant") == 1:
                raise WorkerDied
            return super().complete(messages, **kwargs)

    loop = make_loop(
        profile,
        DiesOnSecondAsk(steps),
        workspace,
        events,
        checkpoint=lambda s: saved.append(s.to_json()),
    )
    with pytest.raises(WorkerDied):
        loop.run(loop_state_new(profile=profile, task="count"))

    state = LoopState.from_json(json.loads(json.dumps(saved[-1])))
    assert state.in_flight is None and state.queue == [] and state.steps == 1
    make_loop(profile, ScriptedProvider(steps), workspace, events).run(state)

    assert state.outcome == "succeeded"
    assert (workspace.root / "log.txt").read_text() == "one\ntwo\n"


def test_invalid_arguments_are_shown_to_the_model_then_fail_the_run(
    llm_server: FakeLLMServer, workspace: LocalDirWorkspace, events: EventLog
) -> None:
    llm_server.add(*[tool_call_reply(f"c{i}", "read_file", {"file": "x"}) for i in range(3)])
    client = LLMClient(LLMConfig(base_url=llm_server.url, model="fake-model"))

    state = make_loop(FIXER, client, workspace, events).run(loop_state_new(profile=FIXER, task="x"))

    assert state.outcome == "failed"
    assert state.reason.startswith("the model sent invalid tool arguments 3 times in a row")
    assert "missing required property 'path'" in state.reason
    # The first two errors went back to the model as observations.
    second = llm_server.requests[1]["body"]["messages"]
    assert (
        second[-1]["role"] == "tool" and "missing required property 'path'" in second[-1]["content"]
    )
    assert [e["kind"] for e in events.of("error")] == ["tool_arguments"] * 3


def test_state_from_another_version_is_rejected() -> None:
    data = loop_state_new(profile=FIXER, task="x").to_json()
    data["version"] = 99
    with pytest.raises(ValueError, match="unsupported loop state version"):
        LoopState.from_json(data)


def test_token_batcher_emits_at_most_every_interval() -> None:
    now = [0.0]
    sent: list[str] = []
    batcher = TokenBatcher(sent.append, interval=0.1, clock=lambda: now[0])
    for _ in range(10):  # 10 tokens in 50 ms
        now[0] += 0.005
        batcher.add("a")
    assert sent == []
    now[0] += 0.06
    batcher.add("b")  # 110 ms after the last flush
    assert sent == ["a" * 10 + "b"]
    batcher.add("c")
    batcher.flush()
    assert sent == ["a" * 10 + "b", "c"]
    batcher.flush()
    assert len(sent) == 2


def test_fast_stream_becomes_few_token_events(
    llm_server: FakeLLMServer, workspace: LocalDirWorkspace, events: EventLog
) -> None:
    llm_server.add(
        Reply(chunks=sse(*[text_chunk("w ") for _ in range(200)], text_chunk("end", finish="stop")))
    )
    client = LLMClient(LLMConfig(base_url=llm_server.url, model="fake-model"))

    make_loop(RESEARCHER, client, workspace, events).run(
        loop_state_new(profile=RESEARCHER, task="x")
    )

    tokens = events.of("tokens")
    assert "".join(t["text"] for t in tokens) == "w " * 200 + "end"
    assert len(tokens) < 20


def test_cancel_while_awaiting_confirmation_ends_the_run(
    workspace: LocalDirWorkspace, events: EventLog
) -> None:
    steps = [{"tool": "shell", "args": {"command": "rm -rf src"}}, {"finish": "x"}]
    cancel = CancelFlag()
    loop, state = scripted_run(FIXER, steps, workspace, events, cancel=cancel)
    assert state.outcome == "awaiting_confirmation"

    cancel.cancel()
    loop.run(state)

    assert state.outcome == "cancelled" and state.awaiting is None
    assert events.of("state")[-1]["state"] == "cancelled"


def test_long_arguments_are_cut_in_events_but_not_in_the_workspace(
    workspace: LocalDirWorkspace, events: EventLog
) -> None:
    content = "x" * 50_000
    steps = [
        {"tool": "write_file", "args": {"path": "big.txt", "content": content}},
        {"finish": "ok"},
    ]

    _, state = scripted_run(FIXER, steps, workspace, events)

    assert (workspace.root / "big.txt").read_text() == content
    shown = events.of("tool_call")[0]["arguments"]["content"]
    assert len(shown) < 9000 and "characters truncated" in shown
    assert len(json.dumps(state.to_json())) > 50_000  # the model's history keeps it whole


def test_polling_cancel_asks_at_most_once_per_interval() -> None:
    tenths = [0]  # whole tenths of a second, so the clock has no rounding drift
    asked: list[int] = []
    answers = iter([False, False, True])

    def check() -> bool:
        asked.append(tenths[0])
        return next(answers)

    signal = PollingCancel(check, interval=1.0, clock=lambda: tenths[0] / 10)
    results = []
    for _ in range(25):
        results.append(signal.is_cancelled())
        tenths[0] += 1
    assert asked == [0, 10, 20]
    assert results[:20] == [False] * 20 and all(results[20:])


def test_duplicate_tool_call_ids_are_made_unique(
    llm_server: FakeLLMServer, workspace: LocalDirWorkspace, events: EventLog
) -> None:
    llm_server.add(
        Reply(
            chunks=sse(
                tool_chunk(
                    0, call_id="same", name="write_file", arguments='{"path": "a", "content": "1"}'
                ),
                tool_chunk(
                    1, call_id="same", name="write_file", arguments='{"path": "b", "content": "2"}'
                ),
                usage_chunk(1, 1),
            )
        ),
        tool_call_reply("c2", "finish", {"answer": "both"}),
    )
    client = LLMClient(LLMConfig(base_url=llm_server.url, model="fake-model"))

    state = make_loop(FIXER, client, workspace, events).run(loop_state_new(profile=FIXER, task="x"))

    assert state.outcome == "succeeded"
    assert (workspace.root / "a").read_text() == "1" and (workspace.root / "b").read_text() == "2"
    second = llm_server.requests[1]["body"]["messages"]
    ids = [c["id"] for c in second[2]["tool_calls"]]
    assert ids == ["same", "call_1_1"]
    assert [m["tool_call_id"] for m in second[3:5]] == ids


def test_an_unexpected_tool_crash_fails_the_run_instead_of_hanging(
    workspace: LocalDirWorkspace, events: EventLog
) -> None:
    class Broken(LocalDirWorkspace):
        def list_files(self, path: str = "") -> Any:
            raise RuntimeError("disk on fire")

    broken = Broken(workspace.root)
    _, state = scripted_run(FIXER, [{"tool": "list_files"}, {"finish": "x"}], broken, events)

    assert state.outcome == "failed"
    assert state.reason == "internal error: RuntimeError: disk on fire"
    assert state.in_flight is None
    assert events.of("error")[-1]["kind"] == "internal"


def test_empty_or_too_long_tasks_are_refused() -> None:
    with pytest.raises(ValueError, match="the task is empty"):
        loop_state_new(profile=FIXER, task="   ")
    with pytest.raises(ValueError, match="the task is 20001 characters long; at most 20000"):
        loop_state_new(profile=FIXER, task="x" * 20_001)
