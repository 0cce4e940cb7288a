"""Minutes: Markdown rendering and the draft → in review → approved → published lifecycle."""

from __future__ import annotations

import hashlib
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from governance.meetings.models import (
    AgendaItem,
    Amendment,
    AmendmentStatus,
    AttendanceStatus,
    Meeting,
    MinutesStatus,
)
from governance.meetings.services.meeting import action_items_open, meeting_quorum
from governance.meetings.services.permissions import (
    meeting_may_take_notes,
    require_chair,
    require_unlocked,
)
from governance.meetings.topics import meeting_publish
from portal.api.errors import DomainError
from portal.audit import audit_record


def minutes_markdown(meeting: Meeting) -> str:
    """The minutes as Markdown, deterministic for a given state (what approval hashes)."""
    zone = meeting.series.time_zone if meeting.series_id and meeting.series else "UTC"
    local = meeting.starts_at.astimezone(ZoneInfo(zone))
    lines = [
        f"# {meeting.title}",
        "",
        f"- Date: {local:%Y-%m-%d %H:%M} ({zone})",
        f"- Type: {meeting.get_meeting_type_display()}",
        f"- Chair: {meeting.chair.name if meeting.chair else '—'}",
    ]
    rows = list(meeting.attendance.select_related("user").order_by("user__username"))
    for status in (AttendanceStatus.PRESENT, AttendanceStatus.EXCUSED, AttendanceStatus.ABSENT):
        names = [r.user.name for r in rows if r.status == status]
        if names:
            lines.append(f"- {status.label}: {', '.join(names)}")
    quorum = meeting_quorum(meeting)
    if quorum.required is not None:
        verdict = "met" if quorum.met else "not met"
        lines.append(f"- Quorum: {quorum.present} of {quorum.required} required ({verdict})")
    lines += ["", "## Agenda", ""]
    for index, item in enumerate(meeting.agenda_items.order_by("position", "id"), start=1):
        lines.append(f"### {index}. {item.title}")
        lines.append("")
        lines.append(item.notes.strip() or "_No notes._")
        lines.append("")
    decisions = list(meeting.decisions.select_related("poll").order_by("created_at", "id"))
    if decisions:
        lines += ["## Decisions", ""]
        for decision in decisions:
            text = decision.text
            if decision.poll_id:
                result = decision.poll_result_text or "poll still open"
                text = f"{text} — {result}" if text else result
            lines.append(f"- {text}")
        lines.append("")
    actions = list(action_items_open(meeting))
    if actions:
        lines += ["## Action items", ""]
        for action in actions:
            done = "x" if action.task.status == "done" else " "
            lines.append(
                f"- [{done}] {action.what} — {action.assignee.name}, due "
                f"{action.due_date.isoformat()} ({action.task.code})"
            )
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def minutes_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _meeting(meeting: Meeting) -> Meeting:
    return (
        Meeting.objects.select_for_update(of=("self",))
        .select_related("series", "chair")
        .get(pk=meeting.pk)
    )


def _transition(meeting: Meeting, expected: str, target: str) -> None:
    if meeting.minutes_status != expected:
        raise DomainError(
            f"the minutes are {meeting.get_minutes_status_display().lower()}, not "
            f"{MinutesStatus(expected).label.lower()}",
            code="bad_status",
            status_code=409,
        )
    meeting.minutes_status = target


@transaction.atomic
def minutes_submit(*, actor: Any, meeting: Meeting) -> Meeting:
    """Draft → in review: notes freeze; attendees may now propose amendments."""
    meeting = _meeting(meeting)
    require_chair(actor, meeting, "send the minutes to review")
    _transition(meeting, MinutesStatus.DRAFT, MinutesStatus.IN_REVIEW)
    meeting.save(update_fields=["minutes_status"])
    audit_record(actor=actor, action="meetings.minutes.review", obj=meeting)
    meeting_publish(meeting.pk, "minutes.status", {"status": meeting.minutes_status})
    return meeting


@transaction.atomic
def amendment_propose(
    *, actor: Any, meeting: Meeting, item: AgendaItem, text: str, reason: str = ""
) -> Amendment:
    """An attendee proposes new notes for an item while the minutes are in review."""
    meeting = _meeting(meeting)
    if not meeting_may_take_notes(actor, meeting):
        raise DomainError(
            "only the meeting's attendees can propose amendments",
            code="not_allowed",
            status_code=403,
        )
    require_unlocked(meeting)
    if meeting.minutes_status != MinutesStatus.IN_REVIEW:
        raise DomainError(
            "amendments are proposed while the minutes are in review",
            code="bad_status",
            status_code=409,
        )
    if item.meeting_id != meeting.pk:
        raise DomainError("item: not on this meeting", fields={"item": ["other meeting"]})
    if not (text or "").strip():
        raise DomainError("text: the amended notes", fields={"text": ["required"]})
    amendment = Amendment.objects.create(
        meeting=meeting, agenda_item=item, proposed_by=actor, text=text, reason=reason[:500]
    )
    audit_record(actor=actor, action="meetings.amendment.propose", obj=amendment)
    meeting_publish(meeting.pk, "amendment.proposed", {"amendment": amendment.pk})
    return amendment


@transaction.atomic
def amendment_decide(*, actor: Any, amendment: Amendment, accept: bool) -> Amendment:
    """The chair accepts (the notes are replaced) or rejects an amendment."""
    meeting = _meeting(amendment.meeting)
    require_chair(actor, meeting, "decide on amendments")
    require_unlocked(meeting)
    amendment = Amendment.objects.select_for_update().get(pk=amendment.pk)
    if amendment.status != AmendmentStatus.PENDING:
        raise DomainError("this amendment was already decided", code="bad_status", status_code=409)
    amendment.status = AmendmentStatus.ACCEPTED if accept else AmendmentStatus.REJECTED
    amendment.decided_by = actor
    amendment.decided_at = timezone.now()
    amendment.save(update_fields=["status", "decided_by", "decided_at"])
    if accept:
        item = AgendaItem.objects.select_for_update().get(pk=amendment.agenda_item_id)
        item.notes = amendment.text
        item.notes_version += 1
        item.notes_updated_by = amendment.proposed_by
        item.notes_updated_at = amendment.decided_at
        item.save(update_fields=["notes", "notes_version", "notes_updated_by", "notes_updated_at"])
    audit_record(
        actor=actor,
        action=f"meetings.amendment.{amendment.status}",
        obj=amendment,
    )
    meeting_publish(
        meeting.pk, "amendment.decided", {"amendment": amendment.pk, "status": amendment.status}
    )
    return amendment


@transaction.atomic
def minutes_approve(*, actor: Any, meeting: Meeting) -> Meeting:
    """In review → approved: the text is frozen and its SHA-256 recorded in the audit log."""
    meeting = _meeting(meeting)
    require_chair(actor, meeting, "approve the minutes")
    pending = meeting.amendments.filter(status=AmendmentStatus.PENDING).count()
    if pending:
        raise DomainError(
            f"{pending} amendment(s) still pending: accept or reject them first",
            code="amendments_pending",
            status_code=409,
        )
    _transition(meeting, MinutesStatus.IN_REVIEW, MinutesStatus.APPROVED)
    text = minutes_markdown(meeting)
    meeting.approved_text = text
    meeting.approved_hash = minutes_hash(text)
    meeting.approved_at = timezone.now()
    meeting.save(update_fields=["minutes_status", "approved_text", "approved_hash", "approved_at"])
    audit_record(
        actor=actor,
        action="meetings.minutes.approve",
        obj=meeting,
        detail={"sha256": meeting.approved_hash, "length": len(text)},
    )
    meeting_publish(meeting.pk, "minutes.status", {"status": meeting.minutes_status})
    return meeting


@transaction.atomic
def minutes_publish(*, actor: Any, meeting: Meeting) -> Meeting:
    meeting = _meeting(meeting)
    require_chair(actor, meeting, "publish the minutes")
    _transition(meeting, MinutesStatus.APPROVED, MinutesStatus.PUBLISHED)
    meeting.published_at = timezone.now()
    meeting.save(update_fields=["minutes_status", "published_at"])
    audit_record(
        actor=actor,
        action="meetings.minutes.publish",
        obj=meeting,
        detail={"sha256": meeting.approved_hash},
    )
    meeting_publish(meeting.pk, "minutes.status", {"status": meeting.minutes_status})
    return meeting


def minutes_text(meeting: Meeting) -> str:
    """The approved text once locked; the live rendering before."""
    return meeting.approved_text if meeting.minutes_locked else minutes_markdown(meeting)
