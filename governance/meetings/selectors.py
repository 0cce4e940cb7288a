"""Meeting reads (every signed-in member sees meetings; edits are checked in services)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Prefetch, Q, QuerySet

from governance.meetings.models import (
    ActionItem,
    AgendaItem,
    Attendance,
    Meeting,
    MeetingSeries,
    MeetingStatus,
)


def series_visible(*, user: Any) -> QuerySet[MeetingSeries]:
    return MeetingSeries.objects.select_related("template").prefetch_related(
        "owners", "default_attendees"
    )


def meetings_visible(*, user: Any) -> QuerySet[Meeting]:
    return Meeting.objects.select_related("series", "chair")


def meetings_filter(
    *,
    user: Any,
    series: str = "",
    after: datetime | None = None,
    before: datetime | None = None,
    upcoming: bool = False,
) -> QuerySet[Meeting]:
    qs = meetings_visible(user=user)
    if series.isdigit():
        qs = qs.filter(series_id=int(series))
    if after is not None:
        qs = qs.filter(starts_at__gte=after)
    if before is not None:
        qs = qs.filter(starts_at__lt=before)
    if upcoming:
        qs = qs.exclude(status__in=[MeetingStatus.ENDED, MeetingStatus.CANCELLED])
    return qs.order_by("starts_at", "id")


def meeting_detail(*, user: Any, pk: int) -> Meeting:
    """One meeting with everything its page shows, in a fixed number of queries."""
    return (
        meetings_visible(user=user)
        .prefetch_related(
            Prefetch(
                "agenda_items",
                queryset=AgendaItem.objects.select_related(
                    "presenter", "notes_updated_by", "proposal", "poll"
                ).order_by("position", "id"),
            ),
            Prefetch(
                "attendance",
                queryset=Attendance.objects.select_related("user").order_by("user__username"),
            ),
            "decisions__poll",
            "amendments__proposed_by",
        )
        .get(pk=pk)
    )


def action_items_for(meeting: Meeting) -> QuerySet[ActionItem]:
    return (
        ActionItem.objects.filter(Q(meeting=meeting) | Q(current_meeting=meeting))
        .select_related("assignee", "task", "meeting")
        .order_by("created_at", "id")
    )


def meetings_for_user(*, user: Any) -> QuerySet[Meeting]:
    """Meetings a user chairs, attends, owns or is a default attendee of (their calendar)."""
    return (
        Meeting.objects.filter(
            Q(chair=user)
            | Q(attendance__user=user)
            | Q(series__owners=user)
            | Q(series__default_attendees=user)
        )
        .distinct()
        .prefetch_related("agenda_items")
        .order_by("starts_at", "id")
    )
