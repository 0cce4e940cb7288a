"""A scripted fixer run in a real bubblewrap sandbox: edits, commands, artifacts, replay."""

from __future__ import annotations

from typing import Any

import pytest

from portal.jobs.testing import run_pending_jobs
from portal.realtime.testing import HubClient, thread_connections_close
from sandboxes.agents.models import Run, RunState
from sandboxes.models import SandboxState
from tests.agents.conftest import events_of, run_async, start

pytestmark = pytest.mark.django_db(transaction=True)

STEPS = [
    {
        "tool": "write_file",
        "args": {"path": "calc.py", "content": "def add(a, b):\n    return a + b\n"},
    },
    {"tool": "shell", "args": {"command": "python3 -m py_compile calc.py"}, "say": "Compiling."},
    {"tool": "shell", "args": {"command": "cat calc.py"}},
    {"finish": "Added calc.add and checked that it compiles."},
]


async def _replay(user: Any, topic: str, after: int, count: int) -> list[dict[str, Any]]:
    received: list[dict[str, Any]] = []
    try:
        async with HubClient(user=user) as client:
            reply = await client.subscribe(topic, after_seq=after)
            assert reply["type"] == "subscribed", reply
            while len(received) < count:
                message = await client.receive(timeout=5)
                if message.get("topic") == topic and "seq" in message:
                    received.append(
                        {"seq": message["seq"], "type": message["type"], "data": message["data"]}
                    )
    finally:
        await thread_connections_close()
    return received


def test_scripted_fixer_run_edits_a_file_runs_commands_and_replays_identically(
    maintainer: Any, recipe: Any
) -> None:
    run = start(maintainer, recipe, STEPS, task="add an add() function to calc.py")
    assert run.provider == "scripted"
    run_pending_jobs()
    run.refresh_from_db()
    assert run.state == RunState.SUCCEEDED, run.reason
    assert run.tool_calls == 3
    assert run.last_step == 4
    assert run.loop_state["answer"] == "Added calc.add and checked that it compiles."

    events = events_of(run)
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    results = [e["data"] for e in events if e["type"] == "tool_result"]
    assert [r["name"] for r in results] == ["write_file", "shell", "shell"]
    assert results[1]["exit_code"] == 0
    assert "return a + b" in results[2]["output"]
    states = [e["data"]["state"] for e in events if e["type"] == "state"]
    assert states[0] == "queued" and states[-1] == "succeeded"
    assert any(e["type"] == "tokens" and e["data"]["text"] == "Compiling." for e in events)

    artifacts = {a.kind: a.content for a in run.artifacts.all()}
    assert artifacts["report"] == "Added calc.add and checked that it compiles."
    assert "+++ b/calc.py" in artifacts["diff"] and "+    return a + b" in artifacts["diff"]
    assert run.sandbox is not None
    assert run.sandbox.state == SandboxState.STOPPED  # the run's own sandbox is cleaned up

    # A late viewer gets the whole history; a reconnecting one exactly what it missed.
    full = run_async(_replay(maintainer, run.topic, 0, len(events)))
    assert full == events
    middle = len(events) // 2
    tail = run_async(_replay(maintainer, run.topic, middle, len(events) - middle))
    assert tail == events[middle:]


def test_events_api_pages_through_the_run_with_after_seq(
    api_as: Any, maintainer: Any, recipe: Any
) -> None:
    run = start(maintainer, recipe, STEPS)
    run_pending_jobs()
    stored = events_of(run)
    client = api_as(maintainer)
    seen: list[dict[str, Any]] = []
    after = 0
    for _ in range(50):
        body = client.get(f"/api/v1/runs/{run.pk}/events/?after_seq={after}&limit=4").json()
        seen += [{"seq": e["seq"], "type": e["type"], "data": e["data"]} for e in body["events"]]
        after = body["last_seq"]
        if not body["more"]:
            break
    assert seen == stored
    assert Run.objects.get(pk=run.pk).state == RunState.SUCCEEDED
