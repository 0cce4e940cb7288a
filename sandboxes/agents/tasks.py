"""Background work: executing runs, and reconciling runs whose worker died."""

from __future__ import annotations

from datetime import timedelta

from portal.jobs import periodic, task
from sandboxes.agents.services import run_execute, runs_reconcile


@task(name="agents.run_execute", max_attempts=1)
def run_execute_job(*, run_id: int) -> None:
    """Execute (or continue) one run. One attempt: a lost worker makes it ``interrupted``
    (by ``runs_reconcile``) and its owner decides whether to resume."""
    run_execute(run_id=run_id)


@periodic(every=timedelta(seconds=30), name="agents.reconcile")
def runs_reconcile_tick() -> None:
    runs_reconcile()


def _reconcile_when_a_worker_starts() -> None:
    """A worker that starts may be replacing one that died mid-run."""
    import sys

    if sys.argv[1:2] == ["worker"]:
        runs_reconcile_tick.enqueue(_unique_key="agents.reconcile.start")


_reconcile_when_a_worker_starts()
