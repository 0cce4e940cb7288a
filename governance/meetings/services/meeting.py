"""Running a meeting: agenda, attendance, live notes, decisions, action items, carry-over."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from community.roadmap.models import CLOSED_STATUSES, Milestone, TaskStatus
from community.roadmap.services import task_create
from governance.meetings.models import (
    ActionItem,
    AgendaItem,
    Attendance,
    AttendanceStatus,
    Decision,
    Meeting,
    MeetingStatus,
    MinutesStatus,
)
from governance.meetings.services.permissions import (
    require_chair,
    require_note_taker,
    require_unlocked,
)
from governance.meetings.topics import NoteEditingEvent, NoteSavedEvent, meeting_publish
from governance.models import Poll, PollOption, Proposal
from portal.api.errors import DomainError
from portal.audit import audit_record

ACTION_TASK_KEY = "ACT"


def _locked_meeting(meeting: Meeting) -> Meeting:
    return (
        Meeting.objects.select_for_update(of=("self",)).select_related("series").get(pk=meeting.pk)
    )


# --- agenda ---------------------------------------------------------------------------------


@transaction.atomic
def agenda_item_add(
    *,
    actor: Any,
    meeting: Meeting,
    title: str,
    presenter: Any = None,
    planned_minutes: int = 10,
    proposal: Proposal | None = None,
    poll: Poll | None = None,
) -> AgendaItem:
    """Append an item to the agenda (chair)."""
    meeting = _locked_meeting(meeting)
    require_chair(actor, meeting, "change the agenda")
    require_unlocked(meeting)
    title = (title or "").strip()
    if not title:
        raise DomainError("title: required", fields={"title": ["required"]})
    if not 1 <= planned_minutes <= 240:
        raise DomainError(
            "planned_minutes: 1 to 240", fields={"planned_minutes": ["1 to 240 minutes"]}
        )
    last = meeting.agenda_items.order_by("-position").values_list("position", flat=True).first()
    item = AgendaItem.objects.create(
        meeting=meeting,
        position=(last + 1) if last is not None else 0,
        title=title[:200],
        presenter=presenter,
        planned_minutes=planned_minutes,
        proposal=proposal,
        poll=poll,
    )
    audit_record(actor=actor, action="meetings.agenda.add", obj=item, detail={"title": title})
    meeting_publish(meeting.pk, "agenda.changed", {"item": item.pk})
    return item


@transaction.atomic
def agenda_reorder(*, actor: Any, meeting: Meeting, order: list[int]) -> list[AgendaItem]:
    """Put the agenda in the given order of item ids (every item exactly once)."""
    meeting = _locked_meeting(meeting)
    require_chair(actor, meeting, "reorder the agenda")
    require_unlocked(meeting)
    items = {i.pk: i for i in meeting.agenda_items.all()}
    if sorted(order) != sorted(items) or len(set(order)) != len(order):
        raise DomainError(
            "order: list every agenda item id of this meeting exactly once",
            fields={"order": [f"expected the ids {sorted(items)} in some order"]},
        )
    for position, pk in enumerate(order):
        items[pk].position = position
    AgendaItem.objects.bulk_update(list(items.values()), ["position"])
    meeting_publish(meeting.pk, "agenda.changed", {"order": order})
    return [items[pk] for pk in order]


# --- attendance -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Quorum:
    required: int | None
    present: int

    @property
    def met(self) -> bool | None:
        return None if self.required is None else self.present >= self.required


def meeting_quorum(meeting: Meeting) -> Quorum:
    present = meeting.attendance.filter(status=AttendanceStatus.PRESENT).count()
    return Quorum(required=meeting.quorum, present=present)


@transaction.atomic
def attendance_set(*, actor: Any, meeting: Meeting, user: Any, status: str) -> Attendance:
    """Mark someone present / absent / excused (chair; anyone may mark themselves)."""
    meeting = _locked_meeting(meeting)
    if not (actor and actor.is_authenticated and actor.pk == user.pk):
        require_chair(actor, meeting, "take attendance for others")
    require_unlocked(meeting)
    if status not in AttendanceStatus.values:
        raise DomainError(
            f"status: one of {', '.join(AttendanceStatus.values)}", fields={"status": ["unknown"]}
        )
    row, _ = Attendance.objects.update_or_create(
        meeting=meeting, user=user, defaults={"status": status}
    )
    quorum = meeting_quorum(meeting)
    meeting_publish(
        meeting.pk,
        "attendance.changed",
        {
            "user": user.username,
            "status": status,
            "present": quorum.present,
            "quorum": quorum.required,
            "quorum_met": quorum.met,
        },
    )
    return row


@transaction.atomic
def meeting_start(*, actor: Any, meeting: Meeting) -> Meeting:
    meeting = _locked_meeting(meeting)
    require_chair(actor, meeting, "start the meeting")
    if meeting.status != MeetingStatus.SCHEDULED:
        raise DomainError(
            f"the meeting is {meeting.get_status_display().lower()}",
            code="bad_status",
            status_code=409,
        )
    meeting.status = MeetingStatus.IN_PROGRESS
    meeting.save(update_fields=["status"])
    audit_record(actor=actor, action="meetings.meeting.start", obj=meeting)
    meeting_publish(meeting.pk, "meeting.status", {"status": meeting.status})
    return meeting


@transaction.atomic
def meeting_end(*, actor: Any, meeting: Meeting) -> Meeting:
    """End the meeting; its open action items move on to the series' next meeting."""
    meeting = _locked_meeting(meeting)
    require_chair(actor, meeting, "end the meeting")
    if meeting.status not in (MeetingStatus.SCHEDULED, MeetingStatus.IN_PROGRESS):
        raise DomainError("the meeting has already ended", code="bad_status", status_code=409)
    meeting.status = MeetingStatus.ENDED
    meeting.save(update_fields=["status"])
    audit_record(actor=actor, action="meetings.meeting.end", obj=meeting)
    action_items_carry_over(meeting=meeting)
    meeting_publish(meeting.pk, "meeting.status", {"status": meeting.status})
    return meeting


# --- live notes -----------------------------------------------------------------------------


class NoteConflict(DomainError):
    """A save against a stale version: carries the text that is there now."""

    def __init__(self, item: AgendaItem) -> None:
        by = item.notes_updated_by.name if item.notes_updated_by else "someone"
        super().__init__(
            f"{by} saved these notes meanwhile (version {item.notes_version}); "
            "merge your changes into theirs and save again",
            code="conflict",
            status_code=409,
            fields={"version": [f"current version is {item.notes_version}"]},
        )
        self.current_text = item.notes
        self.current_version = item.notes_version
        self.updated_by = by


@transaction.atomic
def note_save(*, actor: Any, item: AgendaItem, text: str, version: int) -> AgendaItem:
    """Save an agenda item's notes if nobody saved since ``version``; otherwise refuse
    with the current text (no edit is silently lost)."""
    meeting = _locked_meeting(item.meeting)
    require_note_taker(actor, meeting)
    require_unlocked(meeting)
    if meeting.minutes_status == MinutesStatus.IN_REVIEW:
        raise DomainError(
            "the minutes are in review: propose an amendment instead",
            code="in_review",
            status_code=409,
        )
    if len(text) > 100_000:
        raise DomainError("text: at most 100,000 characters", fields={"text": ["too long"]})
    now = timezone.now()
    # Compare-and-set on the version: the database decides who was first.
    saved = AgendaItem.objects.filter(pk=item.pk, notes_version=version).update(
        notes=text, notes_version=version + 1, notes_updated_by=actor, notes_updated_at=now
    )
    current = AgendaItem.objects.select_related("notes_updated_by").get(pk=item.pk)
    if not saved:
        raise NoteConflict(current)
    meeting_publish(
        meeting.pk,
        "note.saved",
        NoteSavedEvent(item=current.pk, version=current.notes_version, text=text, by=actor.name),
    )
    return current


def note_editing(*, actor: Any, item: AgendaItem) -> None:
    """Tell the others that ``actor`` is typing in this item's notes."""
    require_note_taker(actor, item.meeting)
    meeting_publish(
        item.meeting_id,
        "note.editing",
        NoteEditingEvent(item=item.pk, user=actor.username, name=actor.name),
    )


# --- decisions ------------------------------------------------------------------------------


def poll_result_summary(poll: Poll) -> str:
    """One line for the minutes from a closed poll's stored result."""
    result = poll.result or {}
    parts = [f"Poll “{poll.title}” closed"]
    if result.get("quorum_met") is False:
        parts.append("without quorum")
    winner = result.get("winner")
    if isinstance(winner, int | str) and str(winner).isdigit():
        label = PollOption.objects.filter(poll=poll, pk=int(winner)).values_list("label", flat=True)
        parts.append(f"winner: {label.first() or winner}")
    elif winner not in (None, ""):
        parts.append(f"winner: {winner}")
    elif "passed" in result:
        parts.append("passed" if result["passed"] else "not passed")
    counts = result.get("counts")
    if isinstance(counts, dict):
        parts.append(", ".join(f"{k} {v}" for k, v in counts.items()))
    return "; ".join(parts)


@transaction.atomic
def decision_record(
    *,
    actor: Any,
    meeting: Meeting,
    text: str = "",
    poll: Poll | None = None,
    agenda_item: AgendaItem | None = None,
) -> Decision:
    """Record a decision (chair): a text, or a poll whose final result fills in on close."""
    meeting = _locked_meeting(meeting)
    require_chair(actor, meeting, "record decisions")
    require_unlocked(meeting)
    text = (text or "").strip()
    if not text and poll is None:
        raise DomainError(
            "text: write the decision or link a poll", fields={"text": ["required without poll"]}
        )
    if agenda_item is not None and agenda_item.meeting_id != meeting.pk:
        raise DomainError("agenda_item: not on this meeting", fields={"agenda_item": ["other"]})
    decision = Decision.objects.create(
        meeting=meeting, text=text, poll=poll, agenda_item=agenda_item, created_by=actor
    )
    if poll is not None and poll.status == "closed" and poll.result is not None:
        decision.poll_result = poll.result
        decision.poll_result_text = poll_result_summary(poll)
        decision.save(update_fields=["poll_result", "poll_result_text"])
    audit_record(
        actor=actor,
        action="meetings.decision.record",
        obj=decision,
        detail={"poll": poll.pk if poll else None},
    )
    meeting_publish(meeting.pk, "decision.added", {"decision": decision.pk})
    return decision


def decisions_poll_result_insert(*, poll_id: int) -> int:
    """Fill the final result into every decision linked to this (closed) poll."""
    poll = Poll.objects.filter(pk=poll_id).first()
    if poll is None or poll.result is None:
        return 0
    pending = list(Decision.objects.filter(poll=poll, poll_result__isnull=True))
    summary = poll_result_summary(poll)
    for decision in pending:
        decision.poll_result = poll.result
        decision.poll_result_text = summary
        decision.save(update_fields=["poll_result", "poll_result_text"])
        meeting_publish(decision.meeting_id, "decision.result", {"decision": decision.pk})
    return len(pending)


# --- action items ---------------------------------------------------------------------------


@transaction.atomic
def action_item_create(
    *,
    actor: Any,
    meeting: Meeting,
    assignee: Any,
    what: str,
    due_date: date,
    milestone: Milestone | None = None,
    today: date | None = None,
) -> ActionItem:
    """An action item (chair) and its roadmap task, linked both ways."""
    meeting = _locked_meeting(meeting)
    require_chair(actor, meeting, "assign action items")
    require_unlocked(meeting)
    what = (what or "").strip()
    if not what:
        raise DomainError("what: describe the action", fields={"what": ["required"]})
    if assignee is None:
        raise DomainError("assignee: required", fields={"assignee": ["required"]})
    if isinstance(assignee, str):
        found = get_user_model().objects.filter(username=assignee).first()
        if found is None:
            raise DomainError(
                f"assignee: no user {assignee!r}",
                code="unknown_owner",
                fields={"assignee": [f"unknown user {assignee!r}"]},
            )
        assignee = found
    today = today or timezone.localdate()
    if due_date < today:
        raise DomainError(
            f"due_date: {due_date.isoformat()} is before today ({today.isoformat()})",
            fields={"due_date": ["on or after the day the action is created"]},
        )
    labels = ["meeting", meeting.meeting_type]
    task = task_create(
        actor=actor,
        key=ACTION_TASK_KEY,
        title=what[:200],
        description=f"Action item from {meeting.title}.",
        owner=assignee,
        labels=labels,
        status=TaskStatus.TODO,
        milestone=milestone,
        due_date=due_date,
        check_permission=False,
    )
    item = ActionItem.objects.create(
        meeting=meeting,
        current_meeting=meeting,
        assignee=assignee,
        what=what[:300],
        due_date=due_date,
        task=task,
        created_by=actor,
    )
    audit_record(
        actor=actor,
        action="meetings.action.create",
        obj=item,
        detail={"task": task.code, "assignee": assignee.pk},
    )
    meeting_publish(meeting.pk, "action.added", {"action": item.pk, "task": task.code})
    return item


def action_items_open(meeting: Meeting) -> Any:
    """Action items on this meeting's list: created here or carried into it."""
    return (
        ActionItem.objects.filter(Q(meeting=meeting) | Q(current_meeting=meeting))
        .select_related("assignee", "task", "meeting")
        .order_by("created_at", "id")
    )


def next_meeting(meeting: Meeting) -> Meeting | None:
    if meeting.series_id is None:
        return None
    return (
        Meeting.objects.filter(series_id=meeting.series_id, starts_at__gt=meeting.starts_at)
        .exclude(status=MeetingStatus.CANCELLED)
        .order_by("starts_at")
        .first()
    )


def action_items_carry_over(*, meeting: Meeting) -> list[ActionItem]:
    """Open action items listed on ``meeting`` move to the series' next meeting (scheduled
    if needed); done or cancelled ones stay where they were closed."""
    if meeting.series_id is None:
        return []
    target = next_meeting(meeting)
    if target is None:
        from governance.meetings.services.series import series_schedule

        series_schedule(series=meeting.series, now=meeting.starts_at)  # type: ignore[arg-type]
        target = next_meeting(meeting)
    if target is None:
        return []
    moving = list(
        ActionItem.objects.filter(current_meeting=meeting)
        .exclude(task__status__in=CLOSED_STATUSES)
        .select_related("task")
    )
    for item in moving:
        item.current_meeting = target
        item.carried_over += 1
    ActionItem.objects.bulk_update(moving, ["current_meeting", "carried_over"])
    if moving:
        meeting_publish(target.pk, "action.carried", {"actions": [i.pk for i in moving]})
    return moving


def meetings_past_carry_over(*, now: datetime | None = None) -> int:
    """Periodic: meetings that ended (by the clock) hand their open actions on."""
    now = now or timezone.now()
    moved = 0
    for meeting in Meeting.objects.filter(
        series__isnull=False,
        ends_at__lt=now,
        carried_action_items__task__status__in=[
            s for s in TaskStatus.values if s not in CLOSED_STATUSES
        ],
    ).distinct():
        with transaction.atomic():
            moved += len(action_items_carry_over(meeting=meeting))
    return moved
