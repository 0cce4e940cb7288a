"""Meeting pages render and their forms call the services."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from governance.meetings.models import Meeting, MeetingSeries

pytestmark = pytest.mark.django_db


def test_chair_creates_series_from_template_and_runs_the_meeting(client, maintainer, member):
    client.force_login(maintainer)
    assert client.get("/meetings/").status_code == 200
    response = client.post(
        "/meetings/series/new/",
        {
            "title": "Security weekly",
            "template": "weekly-security-infra",
            "cadence": "weekly",
            "time_zone": "Europe/Berlin",
            "first_date": (timezone.localdate() + timedelta(days=1)).isoformat(),
            "local_time": "10:00",
            "attendees": member.username,
            "quorum": "2",
        },
    )
    series = MeetingSeries.objects.get(title="Security weekly")
    assert response.url == f"/meetings/series/{series.pk}/"
    meeting = Meeting.objects.filter(series=series).order_by("starts_at").first()
    page = client.get(f"/meetings/{meeting.pk}/").content.decode()
    assert "Ledger health result" in page and "Quorum" in page
    client.post(f"/meetings/{meeting.pk}/do/start/")
    client.post(f"/meetings/{meeting.pk}/do/attendance/", {"status": "present"})
    client.post(f"/meetings/{meeting.pk}/do/decision/", {"text": "Rotate keys monthly"})
    client.post(
        f"/meetings/{meeting.pk}/do/action/",
        {
            "what": "Write rotation runbook",
            "assignee": member.username,
            "due_date": timezone.localdate().isoformat(),
        },
    )
    page = client.get(f"/meetings/{meeting.pk}/").content.decode()
    assert "Rotate keys monthly" in page and "ACT-001" in page
    board = client.get("/roadmap/").content.decode()
    assert "Write rotation runbook" in board
    assert client.get(f"/meetings/{meeting.pk}/minutes/").status_code == 200
    assert client.get(f"/meetings/series/{series.pk}/").status_code == 200
    md = client.get(f"/meetings/{meeting.pk}/minutes.md").content.decode()
    assert "Rotate keys monthly" in md


def test_member_sees_refusal_for_chair_actions(client, make_series, member):
    series = make_series(first_date=timezone.localdate() + timedelta(days=1))
    meeting = Meeting.objects.filter(series=series).first()
    client.force_login(member)
    response = client.post(f"/meetings/{meeting.pk}/do/decision/", {"text": "x"}, follow=True)
    assert "only the chair can record decisions" in response.content.decode()
    assert not meeting.decisions.exists()


def test_templates_page_edit_for_stewards_only(client, settings, steward, member, template):
    settings.AGORA_STEWARD_REQUIRES_2FA = False
    client.force_login(member)
    client.post(
        "/meetings/templates/",
        {"slug": template.slug, "name": "Hijacked", "items": "x | 5"},
    )
    template.refresh_from_db()
    assert template.name == "Weekly security & infra"
    client.force_login(steward)
    client.post(
        "/meetings/templates/",
        {"slug": template.slug, "name": "Weekly sec", "items": "Ledger | 5\nBackups | 10"},
    )
    template.refresh_from_db()
    assert template.name == "Weekly sec"
    assert template.items == [
        {"title": "Ledger", "minutes": 5},
        {"title": "Backups", "minutes": 10},
    ]
