"""Background work: the launch job, culling and reconciliation schedules."""

from __future__ import annotations

from datetime import timedelta

from portal.jobs import periodic, task
from sandboxes.services import sandbox_start_run, sandboxes_cull, sandboxes_reconcile


@task(name="sandboxes.start", max_attempts=1)
def sandbox_start(*, sandbox_id: int) -> None:
    """Launch a requested sandbox on its backend (one attempt: failures are recorded)."""
    sandbox_start_run(sandbox_id=sandbox_id)


@periodic(every=timedelta(seconds=30), name="sandboxes.cull")
def sandboxes_cull_tick() -> None:
    sandboxes_cull()


@periodic(every=timedelta(minutes=5), name="sandboxes.reconcile")
def sandboxes_reconcile_tick() -> None:
    sandboxes_reconcile()


def _reconcile_when_a_worker_starts() -> None:
    """Workers import this module as they start; a new worker is exactly when sandboxes of
    a dead one (bubblewrap sandboxes die with their process) must be reconciled."""
    import sys

    if sys.argv[1:2] == ["worker"]:
        sandboxes_reconcile_tick.enqueue(_unique_key="sandboxes.reconcile.start")


_reconcile_when_a_worker_starts()
