"""Realtime topic ``meeting.<id>``: notes saved, who is editing, agenda, decisions, actions."""

from __future__ import annotations

from typing import Any, TypedDict

from portal.realtime import publish, register_topic


class NoteSavedEvent(TypedDict):
    item: int
    version: int
    text: str
    by: str


class NoteEditingEvent(TypedDict):
    item: int
    user: str
    name: str


def meeting_topic(meeting_id: int) -> str:
    return f"meeting.{meeting_id}"


def meeting_publish(meeting_id: int, type: str, data: Any) -> None:
    publish(meeting_topic(meeting_id), type, dict(data))


def _meeting_authorize(user: Any, key: str) -> bool:
    from governance.meetings.models import Meeting

    return bool(
        user and user.is_authenticated and key.isdigit() and Meeting.objects.filter(pk=key).exists()
    )


register_topic("meeting", authorize=_meeting_authorize)
