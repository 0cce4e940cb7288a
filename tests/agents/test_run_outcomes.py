"""Run outcomes: a model's tool-call loop, budgets, confirmations, cancellation, bad input."""

from __future__ import annotations

import contextlib
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from portal.jobs.testing import run_pending_jobs
from portal.models import RealtimeEvent
from sandboxes.agents.models import Run, RunState
from sandboxes.agents.services import (
    profile_version_create,
    run_cancel,
    run_confirm,
)
from sandboxes.models import SandboxState
from tests.agents.conftest import events_of, start, types_of
from tests.sandboxes.agents.conftest import Reply, sse, text_chunk, tool_call_reply, usage_chunk
from tests.sandboxes.conftest import launched  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db(transaction=True)


def test_run_against_an_openai_compatible_server_loops_through_tool_calls(
    settings: Any, maintainer: Any, recipe: Any, llm_server: Any
) -> None:
    settings.LLM_BASE_URL = llm_server.url
    settings.LLM_MODEL = "fake-model"
    llm_server.add(
        tool_call_reply("c1", "write_file", {"path": "notes.md", "content": "# Notes\n"}),
        tool_call_reply("c2", "read_file", {"path": "notes.md"}),
        Reply(
            chunks=sse(text_chunk("All "), text_chunk("done.", finish="stop"), usage_chunk(300, 5))
        ),
    )
    run = start(maintainer, recipe, None, task="write notes")
    assert run.provider == "openai-compatible"
    run_pending_jobs()
    run.refresh_from_db()
    assert run.state == RunState.SUCCEEDED, run.reason
    assert len(llm_server.requests) == 3
    # The second request carries the first tool's result back to the model.
    second = llm_server.requests[1]["body"]["messages"]
    assert second[-1]["role"] == "tool" and second[-1]["tool_call_id"] == "c1"
    third = llm_server.requests[2]["body"]["messages"]
    assert "# Notes" in third[-1]["content"]
    assert (run.prompt_tokens, run.completion_tokens, run.tool_calls) == (500, 45, 2)
    assert run.artifacts.get(kind="report").content == "All done."
    assert "+# Notes" in run.artifacts.get(kind="diff").content
    tokens = [e["data"]["text"] for e in events_of(run) if e["type"] == "tokens"]
    assert "".join(tokens).endswith("All done.")


def test_unreachable_model_fails_the_run_and_cleans_up_the_sandbox(
    settings: Any, maintainer: Any, recipe: Any
) -> None:
    settings.LLM_BASE_URL = "http://127.0.0.1:9/v1"  # discard port: nothing listens
    run = start(maintainer, recipe, None)
    run_pending_jobs()
    run.refresh_from_db()
    assert run.state == RunState.FAILED
    assert "model provider" in run.reason
    assert "run_error" in types_of(run)
    assert run.sandbox is not None and run.sandbox.state == SandboxState.STOPPED


def test_model_returning_garbage_fails_the_run_with_the_reason(
    settings: Any, maintainer: Any, recipe: Any, llm_server: Any
) -> None:
    settings.LLM_BASE_URL = llm_server.url
    llm_server.add(Reply(chunks=[b"data: {not json\n\n"]))
    run = start(maintainer, recipe, None)
    run_pending_jobs()
    run.refresh_from_db()
    assert run.state == RunState.FAILED
    assert "model provider" in run.reason


def test_run_exceeding_its_step_budget_ends_timed_out(
    steward: Any, maintainer: Any, recipe: Any
) -> None:
    version = profile_version_create(actor=steward, name="fixer", max_steps=2)
    assert version.number == 2
    steps = [{"tool": "list_files", "args": {}} for _ in range(5)]
    run = start(maintainer, recipe, steps)
    assert run.profile_version == version  # the run records the version it used
    run_pending_jobs()
    run.refresh_from_db()
    assert run.state == RunState.TIMED_OUT
    assert "step budget" in run.reason
    assert run.last_step == 2


def test_denied_confirmation_tells_the_model_and_the_command_never_runs(
    maintainer: Any, recipe: Any
) -> None:
    steps = [
        {"tool": "write_file", "args": {"path": "keep.txt", "content": "keep me"}},
        {"tool": "shell", "args": {"command": "rm keep.txt"}},
        {"tool": "read_file", "args": {"path": "keep.txt"}},
        {"finish": "left the file alone"},
    ]
    run = start(maintainer, recipe, steps)
    run_pending_jobs()
    run.refresh_from_db()
    assert run.state == RunState.AWAITING_CONFIRMATION
    assert run.sandbox is not None and run.sandbox.state == SandboxState.RUNNING
    prompt = [e["data"] for e in events_of(run) if e["type"] == "confirmation_required"]
    assert prompt[0]["arguments"] == {"command": "rm keep.txt"}

    run_confirm(actor=maintainer, run=run, approved=False)
    run_pending_jobs()
    run.refresh_from_db()
    assert run.state == RunState.SUCCEEDED, run.reason
    events = events_of(run)
    decision = [e["data"] for e in events if e["type"] == "confirmation"]
    assert decision == [
        {"step": 2, "call_id": "scripted_1", "approved": False, "by": maintainer.email}
    ]
    results = [e["data"] for e in events if e["type"] == "tool_result"]
    assert results[1]["output"].startswith("denied")
    assert results[2]["name"] == "read_file" and "keep me" in results[2]["output"]


def test_approved_confirmation_runs_the_command(maintainer: Any, recipe: Any) -> None:
    steps = [{"tool": "shell", "args": {"command": "echo approved > out.txt; cat out.txt"}}]
    run = start(maintainer, recipe, steps)
    run_pending_jobs()
    run_confirm(actor=maintainer, run=Run.objects.get(pk=run.pk), approved=True)
    run_pending_jobs()
    run.refresh_from_db()
    assert run.state == RunState.SUCCEEDED
    result = next(e["data"] for e in events_of(run) if e["type"] == "tool_result")
    assert result["output"].startswith("approved\n") and result["exit_code"] == 0


def _run_cancelling_when(condition: Any, *, run: Any, actor: Any) -> float:
    """Run the pending jobs while another thread cancels ``run`` once ``condition()``
    holds (the command is running); returns how long the jobs took."""

    def cancel_when_the_command_runs() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if condition():
                time.sleep(0.3)
                run_cancel(actor=actor, run=Run.objects.get(pk=run.pk))
                return
            time.sleep(0.05)

    canceller = threading.Thread(target=cancel_when_the_command_runs)
    canceller.start()
    started = time.monotonic()
    try:
        run_pending_jobs()
    finally:
        canceller.join(70)
    return time.monotonic() - started


def test_cancellation_mid_tool_stops_the_command_and_the_run(
    steward: Any, maintainer: Any, recipe: Any
) -> None:
    profile_version_create(actor=steward, name="fixer", risky_policy="allow")
    steps = [{"tool": "shell", "args": {"command": "sleep 60", "timeout_seconds": 120}}]
    run = start(maintainer, recipe, steps)
    elapsed = _run_cancelling_when(
        lambda: RealtimeEvent.objects.filter(topic=run.topic, type="tool_call").exists(),
        run=run,
        actor=maintainer,
    )
    run.refresh_from_db()
    assert run.state == RunState.CANCELLED
    assert elapsed < 20, elapsed
    result = next(e["data"] for e in events_of(run) if e["type"] == "tool_result")
    assert result["output"] == "cancelled while running"
    assert run.sandbox is not None and run.sandbox.state == SandboxState.STOPPED


def test_cancelling_a_run_waiting_for_confirmation_ends_it(maintainer: Any, recipe: Any) -> None:
    run = start(maintainer, recipe, [{"tool": "shell", "args": {"command": "rm -rf x"}}])
    run_pending_jobs()
    run_cancel(actor=maintainer, run=Run.objects.get(pk=run.pk))
    run.refresh_from_db()
    assert run.state == RunState.CANCELLED
    assert run.sandbox is not None and run.sandbox.state == SandboxState.STOPPED
    assert types_of(run)[-2:] == ["state", "artifacts"]


def _host_processes_running(needle: str) -> int:
    count = 0
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        with contextlib.suppress(OSError):
            if needle.encode() in cmdline.read_bytes():
                count += 1
    return count


def test_cancellation_mid_tool_in_an_existing_sandbox_stops_only_the_command(
    steward: Any,
    maintainer: Any,
    recipe: Any,
    launched: Any,  # noqa: F811
) -> None:
    profile_version_create(actor=steward, name="fixer", risky_policy="allow")
    steps = [{"tool": "shell", "args": {"command": "sleep 61.37", "timeout_seconds": 120}}]
    run = start(maintainer, None, steps, sandbox=launched)
    assert not run.sandbox_owned
    elapsed = _run_cancelling_when(
        lambda: _host_processes_running("61.37") > 0, run=run, actor=maintainer
    )
    run.refresh_from_db()
    assert run.state == RunState.CANCELLED
    assert elapsed < 20, elapsed
    # The command itself is gone (not left running to its timeout) …
    deadline = time.monotonic() + 5
    while _host_processes_running("61.37") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _host_processes_running("61.37") == 0
    # … while the sandbox, which the run did not launch, keeps running and answering.
    launched.refresh_from_db()
    assert launched.state == SandboxState.RUNNING
    from sandboxes.backends import backend_get
    from sandboxes.services.lifecycle import sandbox_handle

    result = backend_get(launched.backend).exec(sandbox_handle(launched), "echo alive; ls -A")
    assert result.exit_code == 0
    assert result.output.decode().split() == ["alive"]  # no stop marker left behind
