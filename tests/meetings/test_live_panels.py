"""Decisions and action items recorded by the chair reach other attendees' open meeting
pages in place: the hub announces the change, the page fetches the re-rendered list."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from unittest import mock

import pytest

from governance.meetings.models import Meeting
from governance.meetings.services import action_item_create, decision_record

pytestmark = pytest.mark.django_db


@pytest.fixture
def meeting(make_series: Any, member: Any) -> Meeting:
    series = make_series(default_attendees=[member], first_date=date.today() + timedelta(days=1))
    return Meeting.objects.filter(series=series).order_by("starts_at")[0]


def test_recording_announces_on_the_meeting_topic(meeting, maintainer, member):
    with mock.patch("governance.meetings.services.meeting.meeting_publish") as publish:
        decision_record(actor=maintainer, meeting=meeting, text="Rotate keys monthly")
        action_item_create(
            actor=maintainer,
            meeting=meeting,
            assignee=member,
            what="Write the runbook",
            due_date=date.today() + timedelta(days=7),
        )

    types = [call.args[1] for call in publish.call_args_list]
    assert types == ["decision.added", "action.added"]
    assert all(call.args[0] == meeting.pk for call in publish.call_args_list)


def test_panels_render_the_current_lists_for_an_attendee(client, meeting, maintainer, member):
    decision_record(actor=maintainer, meeting=meeting, text="Rotate keys monthly")
    action = action_item_create(
        actor=maintainer,
        meeting=meeting,
        assignee=member,
        what="Write the <b>runbook</b>",
        due_date=date.today() + timedelta(days=7),
    )
    client.force_login(member)

    decisions = client.get(f"/meetings/{meeting.pk}/panel/decisions/").content.decode()
    actions = client.get(f"/meetings/{meeting.pk}/panel/actions/").content.decode()

    assert decisions.startswith('<ul id="decision-list"') and "Rotate keys monthly" in decisions
    assert f'id="action-{action.pk}"' in actions and action.task.code in actions
    assert "Write the &lt;b&gt;runbook&lt;/b&gt;" in actions
    # The page itself uses the same partials, with the URL the script refreshes from.
    page = client.get(f"/meetings/{meeting.pk}/").content.decode()
    assert f'data-panel="/meetings/{meeting.pk}/panel/decisions/"' in page
    assert f'data-panel="/meetings/{meeting.pk}/panel/actions/"' in page


def test_panels_refuse_anonymous_and_unknown_names(client, meeting, member):
    response = client.get(f"/meetings/{meeting.pk}/panel/decisions/")
    assert response.status_code == 302 and "/login" in response.url
    client.force_login(member)
    assert client.get(f"/meetings/{meeting.pk}/panel/minutes/").status_code == 404
    assert client.get("/meetings/999999/panel/actions/").status_code == 404
