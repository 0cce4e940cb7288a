"""Running a meeting: notes with conflicts, decisions, actions and carry-over, minutes."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta

import pytest
from django.utils import timezone

from community.roadmap.models import Task, TaskStatus
from community.roadmap.services import task_move
from governance.meetings.models import AttendanceStatus, Meeting, MinutesStatus
from governance.meetings.services import (
    NoteConflict,
    action_item_create,
    agenda_item_add,
    agenda_reorder,
    amendment_decide,
    amendment_propose,
    attendance_set,
    decision_record,
    meeting_end,
    meeting_quorum,
    minutes_approve,
    minutes_markdown,
    minutes_publish,
    minutes_submit,
    note_save,
)
from governance.services import poll_close, poll_create, poll_open
from portal.api.errors import DomainError
from portal.models import AuditEntry
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def series(make_series, member):
    return make_series(
        first_date=timezone.localdate() + timedelta(days=1), default_attendees=[member], quorum=2
    )


@pytest.fixture
def meeting(series):
    return Meeting.objects.filter(series=series).order_by("starts_at").first()


def test_two_concurrent_editors_of_one_note_see_the_conflict(meeting, maintainer, member):
    item = meeting.agenda_items.first()
    seen_by_both = item.notes_version
    note_save(actor=maintainer, item=item, text="Backups green.", version=seen_by_both)
    with pytest.raises(NoteConflict) as exc:
        note_save(actor=member, item=item, text="Backups failed on Tuesday.", version=seen_by_both)
    assert exc.value.status_code == 409
    assert exc.value.current_text == "Backups green."
    assert exc.value.current_version == seen_by_both + 1
    # The second editor merges and saves against the version they were shown.
    merged = note_save(
        actor=member,
        item=item,
        text="Backups green; failed on Tuesday.",
        version=exc.value.current_version,
    )
    assert merged.notes_version == seen_by_both + 2


def test_only_attendees_and_chair_edit_notes(meeting, other_member):
    item = meeting.agenda_items.first()
    with pytest.raises(DomainError) as exc:
        note_save(actor=other_member, item=item, text="sneaky", version=0)
    assert exc.value.status_code == 403


def test_chair_only_actions_are_refused_to_attendees(meeting, member):
    with pytest.raises(DomainError) as exc:
        decision_record(actor=member, meeting=meeting, text="We agree")
    assert exc.value.status_code == 403
    with pytest.raises(DomainError):
        action_item_create(
            actor=member, meeting=meeting, assignee=member, what="x", due_date=date.today()
        )
    with pytest.raises(DomainError):
        minutes_submit(actor=member, meeting=meeting)


def test_agenda_reorder_and_quorum(meeting, maintainer, member):
    extra = agenda_item_add(actor=maintainer, meeting=meeting, title="AOB", planned_minutes=5)
    ids = list(meeting.agenda_items.values_list("pk", flat=True))
    new_order = [extra.pk, *[i for i in ids if i != extra.pk]]
    agenda_reorder(actor=maintainer, meeting=meeting, order=new_order)
    assert list(meeting.agenda_items.order_by("position").values_list("pk", flat=True)) == new_order
    with pytest.raises(DomainError):
        agenda_reorder(actor=maintainer, meeting=meeting, order=new_order[:-1])
    attendance_set(actor=member, meeting=meeting, user=member, status=AttendanceStatus.PRESENT)
    assert meeting_quorum(meeting).met is False
    attendance_set(actor=maintainer, meeting=meeting, user=maintainer, status="present")
    quorum = meeting_quorum(meeting)
    assert (quorum.present, quorum.required, quorum.met) == (2, 2, True)


def test_action_item_becomes_a_linked_task_and_due_date_cannot_precede_creation(
    meeting, maintainer, member
):
    with pytest.raises(DomainError) as exc:
        action_item_create(
            actor=maintainer,
            meeting=meeting,
            assignee=member,
            what="Rotate keys",
            due_date=timezone.localdate() - timedelta(days=1),
        )
    assert "due_date" in exc.value.fields
    action = action_item_create(
        actor=maintainer,
        meeting=meeting,
        assignee=member,
        what="Rotate keys",
        due_date=timezone.localdate() + timedelta(days=7),
    )
    task = Task.objects.get(pk=action.task_id)
    assert task.code == "ACT-001" and task.owner == member and task.status == TaskStatus.TODO
    assert task.action_item == action and "meeting" in task.labels


def test_open_action_items_carry_over_into_the_next_meeting_until_done(series, maintainer, member):
    first, second, third = Meeting.objects.filter(series=series).order_by("starts_at")[:3]
    due = timezone.localdate() + timedelta(days=30)
    open_one = action_item_create(
        actor=maintainer, meeting=first, assignee=member, what="Open", due_date=due
    )
    done_one = action_item_create(
        actor=maintainer, meeting=first, assignee=member, what="Done", due_date=due
    )
    task_move(actor=member, task=done_one.task, status=TaskStatus.IN_PROGRESS)
    task_move(actor=member, task=done_one.task, status=TaskStatus.DONE)
    meeting_end(actor=maintainer, meeting=first)
    open_one.refresh_from_db()
    done_one.refresh_from_db()
    assert open_one.current_meeting == second and open_one.carried_over == 1
    assert done_one.current_meeting == first
    assert list(second.carried_action_items.all()) == [open_one]
    meeting_end(actor=maintainer, meeting=second)
    open_one.refresh_from_db()
    assert open_one.current_meeting == third and open_one.carried_over == 2
    task_move(actor=member, task=open_one.task, status=TaskStatus.IN_PROGRESS)
    task_move(actor=member, task=open_one.task, status=TaskStatus.DONE)
    meeting_end(actor=maintainer, meeting=third)
    open_one.refresh_from_db()
    assert open_one.current_meeting == third


def test_minutes_lifecycle_hash_in_audit_matches_and_approved_minutes_are_locked(
    meeting, maintainer, member
):
    item = meeting.agenda_items.first()
    note_save(actor=member, item=item, text="All green.", version=0)
    decision_record(actor=maintainer, meeting=meeting, text="Keep nightly backups")
    minutes_submit(actor=maintainer, meeting=meeting)
    with pytest.raises(DomainError) as exc:  # in review, changes go through amendments
        note_save(actor=member, item=item, text="direct edit", version=1)
    assert exc.value.code == "in_review"
    with pytest.raises(DomainError):
        minutes_approve(actor=member, meeting=meeting)
    amendment = amendment_propose(
        actor=member, meeting=meeting, item=item, text="All green; one retry.", reason="detail"
    )
    with pytest.raises(DomainError) as exc:
        minutes_approve(actor=maintainer, meeting=meeting)
    assert exc.value.code == "amendments_pending"
    amendment_decide(actor=maintainer, amendment=amendment, accept=True)
    rejected = amendment_propose(actor=member, meeting=meeting, item=item, text="Nope")
    amendment_decide(actor=maintainer, amendment=rejected, accept=False)
    meeting = minutes_approve(actor=maintainer, meeting=meeting)
    assert meeting.minutes_status == MinutesStatus.APPROVED
    expected = hashlib.sha256(meeting.approved_text.encode()).hexdigest()
    assert meeting.approved_hash == expected
    assert "All green; one retry." in meeting.approved_text
    assert minutes_markdown(meeting) == meeting.approved_text
    entry = AuditEntry.objects.get(action="meetings.minutes.approve", object_id=str(meeting.pk))
    assert entry.detail["sha256"] == expected
    with pytest.raises(DomainError) as exc:
        note_save(actor=maintainer, item=item, text="rewrite history", version=2)
    assert exc.value.code == "minutes_locked" and exc.value.status_code == 409
    with pytest.raises(DomainError):
        decision_record(actor=maintainer, meeting=meeting, text="late")
    minutes_publish(actor=maintainer, meeting=meeting)
    meeting.refresh_from_db()
    assert meeting.minutes_status == MinutesStatus.PUBLISHED
    assert hashlib.sha256(meeting.approved_text.encode()).hexdigest() == entry.detail["sha256"]


def test_decision_linked_to_a_poll_gets_its_final_result_when_it_closes(meeting, maintainer):
    voter = UserFactory(role="member")
    poll = poll_create(
        actor=maintainer,
        title="Adopt the backup policy",
        method="yes_no",
        closes_at=timezone.now() + timedelta(days=1),
    )
    poll_open(poll=poll, actor=maintainer)
    decision = decision_record(actor=maintainer, meeting=meeting, poll=poll)
    assert decision.poll_result is None
    from governance.services import vote_cast

    vote_cast(poll=poll, voter=voter, choice="yes")
    poll_close(poll=poll, actor=maintainer)
    decision.refresh_from_db()
    assert decision.poll_result is not None
    assert decision.poll_result_text.startswith("Poll “Adopt the backup policy” closed")
    assert "Adopt the backup policy" in minutes_markdown(meeting)


def test_meeting_times_are_stored_in_utc(meeting):
    assert meeting.starts_at.utcoffset() == timedelta(0) or meeting.starts_at.tzinfo is not None
    assert meeting.ends_at - meeting.starts_at == timedelta(minutes=60)
    assert datetime.now(UTC) < meeting.starts_at + timedelta(days=8)
