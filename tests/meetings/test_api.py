"""Meetings API: shapes, specific errors, and second users refused."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from governance.meetings.models import AgendaTemplate, Meeting

pytestmark = pytest.mark.django_db


@pytest.fixture
def meeting(make_series, member):
    series = make_series(
        first_date=timezone.localdate() + timedelta(days=1), default_attendees=[member]
    )
    return Meeting.objects.filter(series=series).order_by("starts_at").first()


def test_series_create_through_api_schedules_meetings(api_as, maintainer, template):
    response = api_as(maintainer).post(
        "/api/v1/meeting-series/",
        {
            "title": "Infra weekly",
            "cadence": "weekly",
            "time_zone": "Europe/Berlin",
            "first_date": (timezone.localdate() + timedelta(days=1)).isoformat(),
            "local_time": "10:00",
            "template": template.slug,
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    series_id = response.json()["id"]
    meetings = api_as(maintainer).get(f"/api/v1/meetings/?series={series_id}").json()
    assert meetings["count"] == 4


def test_bad_series_input_names_the_field(api_as, maintainer):
    response = api_as(maintainer).post(
        "/api/v1/meeting-series/",
        {
            "title": "X",
            "cadence": "weekly",
            "time_zone": "Nowhere/Atlantis",
            "first_date": "2026-01-01",
            "local_time": "10:00",
        },
        format="json",
    )
    assert response.status_code == 400
    assert "time_zone" in response.json()["error"]["fields"]


def test_members_cannot_create_series(api_as, member):
    response = api_as(member).post(
        "/api/v1/meeting-series/",
        {
            "title": "X",
            "cadence": "weekly",
            "time_zone": "UTC",
            "first_date": "2026-01-01",
            "local_time": "10:00",
        },
        format="json",
    )
    assert response.status_code == 403


def test_note_conflict_returns_409_with_the_current_text(api_as, meeting, maintainer, member):
    item = meeting.agenda_items.first()
    url = f"/api/v1/meetings/{meeting.pk}/agenda-items/{item.pk}/notes/"
    first = api_as(maintainer).put(url, {"text": "Mine", "version": 0}, format="json")
    assert first.status_code == 200 and first.json()["notes_version"] == 1
    second = api_as(member).put(url, {"text": "Theirs", "version": 0}, format="json")
    assert second.status_code == 409
    body = second.json()
    assert body["error"]["code"] == "conflict"
    assert body["current"] == {"text": "Mine", "version": 1, "updated_by": maintainer.name}


def test_outsider_cannot_edit_notes_and_member_cannot_chair(api_as, meeting, other_member, member):
    item = meeting.agenda_items.first()
    url = f"/api/v1/meetings/{meeting.pk}/agenda-items/{item.pk}/notes/"
    assert (
        api_as(other_member).put(url, {"text": "x", "version": 0}, format="json").status_code == 403
    )
    decision = api_as(member).post(
        f"/api/v1/meetings/{meeting.pk}/decisions/", {"text": "Yes"}, format="json"
    )
    assert decision.status_code == 403
    minutes = api_as(member).post(
        f"/api/v1/meetings/{meeting.pk}/minutes/", {"action": "submit"}, format="json"
    )
    assert minutes.status_code == 403


def test_action_items_endpoint_creates_linked_task_and_refuses_past_due(
    api_as, meeting, maintainer, member
):
    url = f"/api/v1/meetings/{meeting.pk}/action-items/"
    past = api_as(maintainer).post(
        url,
        {"assignee": member.username, "what": "Patch", "due_date": "2000-01-01"},
        format="json",
    )
    assert past.status_code == 400 and "due_date" in past.json()["error"]["fields"]
    unknown = api_as(maintainer).post(
        url,
        {"assignee": "ghost", "what": "Patch", "due_date": timezone.localdate().isoformat()},
        format="json",
    )
    assert unknown.status_code == 400 and "assignee" in unknown.json()["error"]["fields"]
    ok = api_as(maintainer).post(
        url,
        {
            "assignee": member.username,
            "what": "Patch",
            "due_date": timezone.localdate().isoformat(),
        },
        format="json",
    )
    assert ok.status_code == 201
    code = ok.json()["task"]
    task = api_as(member).get(f"/api/v1/tasks/{code}/").json()
    assert task["owner"] == member.username and task["action_item"] == ok.json()["id"]
    listed = api_as(member).get(url).json()
    assert [a["task"] for a in listed] == [code]


def test_agenda_items_list_add_and_reorder(api_as, meeting, maintainer, member):
    url = f"/api/v1/meetings/{meeting.pk}/agenda-items/"
    added = api_as(maintainer).post(url, {"title": "AOB", "planned_minutes": 5}, format="json")
    assert added.status_code == 201
    ids = [i["id"] for i in api_as(member).get(url).json()]
    reordered = list(reversed(ids))
    response = api_as(maintainer).put(url + "order/", {"order": reordered}, format="json")
    assert [i["id"] for i in response.json()] == reordered
    assert api_as(member).put(url + "order/", {"order": ids}, format="json").status_code == 403


def test_template_edit_is_steward_only(api_as, steward, maintainer, template):
    url = f"/api/v1/agenda-templates/{template.slug}/"
    body = {"items": [{"title": "Only item", "minutes": 30}]}
    assert api_as(maintainer).patch(url, body, format="json").status_code == 403
    response = api_as(steward).patch(url, body, format="json")
    assert response.status_code == 200
    assert AgendaTemplate.objects.get(slug=template.slug).items == [
        {"title": "Only item", "minutes": 30}
    ]
    bad = api_as(steward).patch(url, {"items": [{"title": ""}]}, format="json")
    assert bad.status_code == 400 and "items[0]" in bad.json()["error"]["fields"]


def test_editing_approved_minutes_is_refused_with_a_specific_error(api_as, meeting, maintainer):
    url = f"/api/v1/meetings/{meeting.pk}/minutes/"
    api_as(maintainer).post(url, {"action": "submit"}, format="json")
    approved = api_as(maintainer).post(url, {"action": "approve"}, format="json")
    assert approved.status_code == 200 and len(approved.json()["approved_hash"]) == 64
    item = meeting.agenda_items.first()
    response = api_as(maintainer).put(
        f"/api/v1/meetings/{meeting.pk}/agenda-items/{item.pk}/notes/",
        {"text": "later", "version": 0},
        format="json",
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "minutes_locked"
    markdown = api_as(maintainer).get(url)
    assert markdown.content.decode() == Meeting.objects.get(pk=meeting.pk).approved_text
