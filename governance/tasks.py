"""Governance background jobs: poll auto-open/close/extension and sign-off FCP/reminders."""

from __future__ import annotations

from datetime import timedelta

from portal.jobs import periodic


@periodic(every=timedelta(minutes=1), name="governance.polls_tick")
def polls_tick_job() -> dict[str, list[int]]:
    from governance.services import polls_tick

    return polls_tick()


@periodic(every=timedelta(hours=1), name="governance.signoffs_tick")
def signoffs_tick_job() -> dict[str, int]:
    from governance.services import signoffs_tick

    return signoffs_tick()
