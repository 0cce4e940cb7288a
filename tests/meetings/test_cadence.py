"""Upcoming meetings from the cadence: local wall time kept across DST changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from governance.meetings.models import Meeting
from governance.meetings.services import SCHEDULE_AHEAD, occurrences, series_schedule
from governance.meetings.services.series import local_to_utc
from portal.api.errors import DomainError
from portal.jobs.testing import run_pending_jobs

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")


def test_weekly_berlin_1000_stays_at_1000_local_across_march_switch(make_series):
    now = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)
    series = make_series(now=now)
    starts = list(Meeting.objects.filter(series=series).values_list("starts_at", flat=True))
    # 2026-03-29 is the switch to CEST: 10:00 local is 09:00 UTC before, 08:00 UTC after.
    assert [s.astimezone(UTC).strftime("%m-%d %H:%M") for s in starts] == [
        "03-16 09:00",
        "03-23 09:00",
        "03-30 08:00",
        "04-06 08:00",
    ]
    assert {s.astimezone(BERLIN).strftime("%H:%M") for s in starts} == {"10:00"}


def test_weekly_across_october_switch(make_series):
    series = make_series(first_date=date(2026, 10, 12))
    starts = occurrences(series, after=datetime(2026, 10, 11, tzinfo=UTC), count=4)
    assert [s.strftime("%m-%d %H:%M") for s in starts] == [
        "10-12 08:00",
        "10-19 08:00",
        "10-26 09:00",  # CET from 2026-10-25
        "11-02 09:00",
    ]


def test_monthly_on_the_31st_clamps_to_month_end_and_biweekly_steps_14_days(make_series):
    monthly = make_series(cadence="monthly", first_date=date(2026, 1, 31), time_zone="UTC")
    starts = occurrences(monthly, after=datetime(2026, 1, 1, tzinfo=UTC), count=3)
    assert [s.date().isoformat() for s in starts] == ["2026-01-31", "2026-02-28", "2026-03-31"]
    biweekly = make_series(cadence="biweekly", first_date=date(2026, 1, 5), time_zone="UTC")
    starts = occurrences(biweekly, after=datetime(2026, 1, 1, tzinfo=UTC), count=3)
    assert [s.day for s in starts] == [5, 19, 2]


def test_a_time_inside_the_spring_gap_moves_past_the_gap():
    # 02:30 does not exist in Berlin on 2026-03-29; it lands at 03:30 CEST (01:30 UTC).
    start = local_to_utc(date(2026, 3, 29), time(2, 30), "Europe/Berlin")
    assert start == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    assert start.astimezone(BERLIN).strftime("%H:%M") == "03:30"


def test_scheduling_is_idempotent_and_the_periodic_job_keeps_the_next_few(make_series):
    series = make_series(first_date=date(2020, 1, 6))
    assert Meeting.objects.filter(series=series).count() == SCHEDULE_AHEAD
    assert series_schedule(series=series) == []
    Meeting.objects.filter(series=series).order_by("starts_at").first().delete()
    from governance.meetings.tasks import meetings_schedule

    meetings_schedule.enqueue()
    run_pending_jobs()
    assert Meeting.objects.filter(series=series).count() == SCHEDULE_AHEAD
    first = Meeting.objects.filter(series=series).order_by("starts_at").first()
    assert [i.title for i in first.agenda_items.all()][:2] == [
        "Ledger health result",
        "Secrets status",
    ]


def test_unknown_time_zone_is_refused(make_series):
    with pytest.raises(DomainError) as exc:
        make_series(time_zone="Mars/Olympus")
    assert "time_zone" in exc.value.fields
