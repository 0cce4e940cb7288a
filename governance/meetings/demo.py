"""Demo data: a weekly security & infra series with its next meetings (idempotent)."""

from __future__ import annotations

from datetime import time, timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from governance.meetings.models import AgendaTemplate, Cadence, MeetingSeries
from governance.meetings.services import agenda_templates_ensure, series_schedule

DEMO_SERIES = "Weekly security & infra"


@transaction.atomic
def demo_seed() -> None:
    agenda_templates_ensure()
    series = MeetingSeries.objects.filter(title=DEMO_SERIES).first()
    if series is None:
        template = AgendaTemplate.objects.get(slug="weekly-security-infra")
        series = MeetingSeries.objects.create(
            title=DEMO_SERIES,
            meeting_type=template.meeting_type,
            cadence=Cadence.WEEKLY,
            time_zone="Europe/Berlin",
            first_date=timezone.localdate() - timedelta(days=timezone.localdate().weekday()),
            local_time=time(10, 0),
            template=template,
            quorum=2,
        )
        owner = get_user_model().objects.filter(is_superuser=True).order_by("id").first()
        owner = owner or get_user_model().objects.order_by("id").first()
        if owner is not None:
            series.owners.add(owner)
            series.default_attendees.add(owner)
    series_schedule(series=series)
