"""Background jobs: keep upcoming meetings scheduled; hand on open action items."""

from __future__ import annotations

from datetime import timedelta

from portal.jobs import periodic


@periodic(every=timedelta(hours=1), name="meetings.schedule")
def meetings_schedule() -> None:
    from governance.meetings.models import Cadence, MeetingSeries
    from governance.meetings.services import meetings_past_carry_over, series_schedule

    for series in MeetingSeries.objects.filter(active=True).exclude(cadence=Cadence.ADHOC):
        series_schedule(series=series)
    meetings_past_carry_over()
