"""Who may do what in a meeting (checked by the services, tested with refused users)."""

from __future__ import annotations

from typing import Any

from governance.meetings.models import Attendance, AttendanceStatus, Meeting, MeetingSeries
from portal.api.errors import DomainError


def _authenticated(user: Any) -> bool:
    return bool(user and user.is_authenticated)


def series_may_manage(user: Any, series: MeetingSeries) -> bool:
    """Series owners and stewards."""
    if not _authenticated(user):
        return False
    return user.has_role("steward") or series.owners.filter(pk=user.pk).exists()


def meeting_may_chair(user: Any, meeting: Meeting) -> bool:
    """The chair, the series' owners and stewards run the meeting."""
    if not _authenticated(user):
        return False
    if meeting.chair_id == user.pk or user.has_role("steward"):
        return True
    series = meeting.series
    return bool(series is not None and series.owners.filter(pk=user.pk).exists())


def meeting_is_attendee(user: Any, meeting: Meeting) -> bool:
    """On the attendance list (not marked absent) or a default attendee of the series."""
    if not _authenticated(user):
        return False
    row = Attendance.objects.filter(meeting=meeting, user=user).values_list("status", flat=True)
    status = row.first()
    if status is not None:
        return status != AttendanceStatus.ABSENT
    series = meeting.series
    return bool(series is not None and series.default_attendees.filter(pk=user.pk).exists())


def meeting_may_take_notes(user: Any, meeting: Meeting) -> bool:
    return meeting_may_chair(user, meeting) or meeting_is_attendee(user, meeting)


def require_chair(user: Any, meeting: Meeting, what: str) -> None:
    if not meeting_may_chair(user, meeting):
        raise DomainError(f"only the chair can {what}", code="not_allowed", status_code=403)


def require_note_taker(user: Any, meeting: Meeting) -> None:
    if not meeting_may_take_notes(user, meeting):
        raise DomainError(
            "only the meeting's attendees and chair can edit its notes",
            code="not_allowed",
            status_code=403,
        )


def require_unlocked(meeting: Meeting) -> None:
    if meeting.minutes_locked:
        when = f" on {meeting.approved_at:%Y-%m-%d %H:%M} UTC" if meeting.approved_at else ""
        raise DomainError(
            f"the minutes were approved{when} and are locked",
            code="minutes_locked",
            status_code=409,
        )
