"""Meetings in a real browser: a chair runs a meeting from a template and its action item
lands on the roadmap board; two editors of one note see each other live and the conflict."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from governance.meetings.models import Decision, Meeting, MeetingSeries
from governance.meetings.services import agenda_templates_ensure, series_create
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_chair_runs_meeting_from_template_and_action_item_appears_on_board(page, login):
    chair = UserFactory(role="maintainer")
    assignee = UserFactory(role="member")
    login(page, chair)

    page.goto("/meetings/")
    page.fill("input[name=title]", "Security & infra weekly")
    page.select_option("select[name=template]", "weekly-security-infra")
    page.select_option("select[name=cadence]", "weekly")
    page.fill("input[name=time_zone]", "Europe/Berlin")
    page.fill("input[name=first_date]", (timezone.localdate() + timedelta(days=1)).isoformat())
    page.fill("input[name=attendees]", assignee.username)
    page.click("#series-form button[type=submit]")

    expect(page.locator("#series-meetings tbody tr")).to_have_count(4)
    page.locator("#series-meetings tbody tr").last.locator("a").click()
    # The scheduled meetings are listed newest first: open the first one of the series.
    series = MeetingSeries.objects.get(title="Security & infra weekly")
    first = Meeting.objects.filter(series=series).order_by("starts_at").first()
    assert page.url.endswith(f"/meetings/{first.pk}/")
    expect(page.locator(".agenda-item h3").first).to_contain_text("Ledger health result")

    page.click("#start-meeting")
    expect(page.locator("#meeting-status")).to_have_text("In progress")
    page.click("#attendance-submit")
    expect(page.locator(".attendance-list")).to_contain_text("Present")

    page.fill("#decision-text", "Rotate the Directus token every month")
    page.click("#decision-form button[type=submit]")
    expect(page.locator("#decision-list")).to_contain_text("Rotate the Directus token")

    page.fill("#action-what", "Write the key rotation runbook")
    page.fill("#action-assignee", assignee.username)
    page.click("#action-form button[type=submit]")
    expect(page.locator("#action-list")).to_contain_text("ACT-001")
    assert Decision.objects.filter(meeting=first).count() == 1

    page.goto("/roadmap/?label=meeting")
    card = page.locator(".task-card", has_text="Write the key rotation runbook")
    expect(card).to_have_count(1)
    expect(card.locator(".task-code")).to_have_text("ACT-001")
    # It sits in the To do column, and the task links back to the meeting.
    expect(page.locator('.kanban-list[data-status="todo"] .task-card')).to_have_count(1)
    card.locator(".task-code").click()
    expect(page.locator("#task-meeting-link")).to_have_attribute(
        "href", f"/meetings/{first.pk}/#action-{first.action_items.get().pk}"
    )
    assert page.js_errors == []


def test_two_editors_see_presence_live_notes_and_the_conflict(page, login, live_url):
    chair = UserFactory(role="maintainer")
    attendee = UserFactory(role="member")
    agenda_templates_ensure()
    from governance.meetings.models import AgendaTemplate

    series = series_create(
        actor=chair,
        title="Product",
        cadence="biweekly",
        time_zone="UTC",
        first_date=timezone.localdate() + timedelta(days=1),
        local_time=time(9, 0),
        template=AgendaTemplate.objects.get(slug="biweekly-product-expansion"),
        default_attendees=[attendee],
    )
    meeting = Meeting.objects.filter(series=series).order_by("starts_at").first()
    item = meeting.agenda_items.order_by("position").first()

    login(page, chair)
    other_context = page.context.browser.new_context(base_url=live_url)
    other = other_context.new_page()
    try:
        login(other, attendee)
        page.goto(f"/meetings/{meeting.pk}/")
        other.goto(f"/meetings/{meeting.pk}/")
        page.wait_for_timeout(500)  # both subscriptions acknowledged

        # The attendee types: the chair sees who is editing.
        other.fill(f"#notes-{item.pk}", "API health: green")
        other.type(f"#notes-{item.pk}", ".")
        expect(page.locator(f"#editing-{item.pk}")).to_contain_text(
            f"{attendee.name} is editing", timeout=10_000
        )
        # The chair also starts from version 0, then the attendee saves first.
        page.fill(f"#notes-{item.pk}", "Data freshness: 5 minutes")
        other.click(f"#item-{item.pk} .save-note")
        expect(other.locator(f"#note-state-{item.pk}")).to_contain_text("saved")
        page.click(f"#item-{item.pk} .save-note")
        conflict = page.locator(f"#conflict-{item.pk}")
        expect(conflict).to_be_visible()
        expect(conflict.locator(".conflict-theirs")).to_have_text("API health: green.")
        # Keeping both: merge and overwrite deliberately.
        page.fill(f"#notes-{item.pk}", "API health: green.\nData freshness: 5 minutes")
        conflict.locator(".keep-mine").click()
        expect(conflict).to_be_hidden()
        # The attendee's untouched textarea follows live.
        expect(other.locator(f"#notes-{item.pk}")).to_have_value(
            "API health: green.\nData freshness: 5 minutes", timeout=10_000
        )
        item.refresh_from_db()
        assert item.notes_version == 2
    finally:
        other_context.close()


def test_board_move_with_keyboard_control_shows_live_for_another_viewer(page, login, live_url):
    from community.roadmap.services import milestone_create, task_create, wip_limit_set

    planner = UserFactory(role="maintainer")
    steward = UserFactory(role="steward")
    milestone = milestone_create(actor=planner, name="Phase 1")
    task = task_create(
        actor=planner, key="OPS", title="Restore drill", milestone=milestone, status="todo"
    )
    task_create(actor=planner, key="OPS", title="Busy", milestone=milestone, status="in_progress")
    wip_limit_set(actor=steward, status="in_progress", limit=1)

    login(page, planner)
    watcher_context = page.context.browser.new_context(base_url=live_url)
    watcher = watcher_context.new_page()
    try:
        login(watcher, planner)
        board = f"/roadmap/?milestone={milestone.pk}"
        watcher.goto(board)
        page.goto(board)
        watcher.wait_for_timeout(500)
        expect(watcher.locator('.kanban-list[data-status="todo"] .task-card')).to_have_count(1)

        # Keyboard alternative to dragging: the card's "move right" button.
        page.get_by_role("button", name=f"Move {task.code} right").focus()
        page.keyboard.press("Enter")
        expect(page.locator("#board-status")).to_contain_text("WIP limit")
        in_progress = watcher.locator('.kanban-list[data-status="in_progress"] .task-card')
        expect(in_progress).to_have_count(2, timeout=10_000)
        expect(watcher.locator(".kanban-col .wip-warning")).to_contain_text(
            "Over the WIP limit of 1"
        )
        assert page.js_errors == []
    finally:
        watcher_context.close()


def test_decisions_and_actions_by_the_chair_appear_live_for_an_attendee(page, login, live_url):
    chair = UserFactory(role="maintainer")
    attendee = UserFactory(role="member")
    agenda_templates_ensure()
    from governance.meetings.models import AgendaTemplate

    series = series_create(
        actor=chair,
        title="Strategy",
        cadence="monthly",
        time_zone="UTC",
        first_date=timezone.localdate() + timedelta(days=1),
        local_time=time(9, 0),
        template=AgendaTemplate.objects.get(slug="weekly-security-infra"),
        default_attendees=[attendee],
    )
    meeting = Meeting.objects.filter(series=series).order_by("starts_at").first()

    login(page, attendee)
    chair_context = page.context.browser.new_context(base_url=live_url)
    chair_page = chair_context.new_page()
    try:
        login(chair_page, chair)
        page.goto(f"/meetings/{meeting.pk}/")
        chair_page.goto(f"/meetings/{meeting.pk}/")
        page.wait_for_timeout(500)  # the attendee's subscription is acknowledged

        chair_page.fill("#decision-text", "Adopt the new backup policy")
        chair_page.click("#decision-form button[type=submit]")
        chair_page.fill("#action-what", "Draft the backup policy")
        chair_page.fill("#action-assignee", attendee.username)
        chair_page.click("#action-form button[type=submit]")

        # The attendee never reloads: both lists update in place.
        expect(page.locator("#decision-list")).to_contain_text(
            "Adopt the new backup policy", timeout=10_000
        )
        action = page.locator("#action-list li", has_text="Draft the backup policy")
        expect(action).to_have_count(1, timeout=10_000)
        expect(action.locator("a")).to_have_attribute("href", "/roadmap/tasks/ACT-001/")
        expect(page.locator("#live-status")).not_to_contain_text("reload")
        assert page.js_errors == []
    finally:
        chair_context.close()
