"""A real `manage.py worker` SIGKILLed mid-run: the run becomes interrupted with its last
completed step, and resuming continues from there (not from the start)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from portal.jobs.testing import run_pending_jobs
from sandboxes.agents.loop import INTERRUPTED_OUTPUT
from sandboxes.agents.models import Run, RunState
from sandboxes.agents.services import profile_version_create, run_resume, runs_reconcile
from tests.agents.conftest import events_of, in_thread, start
from tests.portal.test_jobs_worker_process import ROOT, log_tail, stop, wait_for, worker_env

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        "postgresql" not in str(settings.DATABASES["default"]["ENGINE"]),
        reason="a worker subprocess needs a database it can share (PostgreSQL)",
    ),
]

STEPS = [
    {"tool": "write_file", "args": {"path": "a.txt", "content": "first"}},
    {"tool": "shell", "args": {"command": "sleep 120", "timeout_seconds": 300}},
    {"tool": "list_files", "args": {}},
    {"finish": "carried on after the interruption"},
]


def start_worker(log: Path, sandbox_root: Path) -> subprocess.Popen[bytes]:
    env = worker_env()
    env.update(SANDBOX_ROOT=str(sandbox_root), SANDBOX_BACKENDS="bubblewrap", LLM_BASE_URL="")
    with open(log, "ab") as out:
        return subprocess.Popen(
            [sys.executable, "manage.py", "worker", "--no-schedules"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def test_killed_worker_leaves_the_run_interrupted_and_it_resumes_from_the_last_step(
    tmp_path: Path, steward: Any, maintainer: Any, recipe: Any, sandbox_root: Path
) -> None:
    profile_version_create(actor=steward, name="fixer", risky_policy="allow")
    run = start(maintainer, recipe, STEPS)
    log = tmp_path / "worker.log"
    worker = start_worker(log, sandbox_root)
    try:
        wait_for(
            lambda: Run.objects.get(pk=run.pk).loop_state.get("in_flight") == "scripted_1",
            90,
            "the worker to start the sleeping command",
            log,
        )
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(10)
    finally:
        stop(worker)
    run.refresh_from_db()
    assert run.state == RunState.RUNNING, log_tail(log)

    assert in_thread(runs_reconcile) == 1
    run.refresh_from_db()
    assert run.state == RunState.INTERRUPTED
    assert run.last_step == 2
    assert "after step 2" in run.reason
    assert run.loop_state["in_flight"] == "scripted_1"

    in_thread(run_resume, actor=maintainer, run=run)
    in_thread(run_pending_jobs)
    run.refresh_from_db()
    assert run.state == RunState.SUCCEEDED, run.reason
    events = events_of(run)
    results = [e["data"] for e in events if e["type"] == "tool_result"]
    # write_file ran once, before the kill; the interrupted command is reported, not rerun.
    assert [r["name"] for r in results] == ["write_file", "shell", "list_files"]
    assert results[1]["output"] == INTERRUPTED_OUTPUT
    states = [e["data"]["state"] for e in events if e["type"] == "state"]
    assert "interrupted" in states and states[-1] == "succeeded"
    assert run.artifacts.get(kind="report").content == "carried on after the interruption"
    assert run.sandbox_owned
