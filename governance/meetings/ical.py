"""iCalendar (RFC 5545) feeds written by hand: one VEVENT per meeting."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from django.conf import settings
from django.utils import timezone

from governance.meetings.models import Meeting, MeetingStatus

PRODID = "-//Agora//Meetings//EN"


def ical_escape(text: str) -> str:
    """TEXT value escaping (RFC 5545 §3.3.11)."""
    return (
        text.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
        .replace("\r", "\\n")
    )


def ical_fold(line: str) -> str:
    """Fold a content line at 75 octets (§3.1), never inside a UTF-8 character."""
    out: list[str] = []
    current = ""
    size = 0
    limit = 75
    for char in line:
        width = len(char.encode("utf-8"))
        if size + width > limit:
            out.append(current)
            current, size, limit = char, width, 74  # continuation lines start with a space
        else:
            current += char
            size += width
    out.append(current)
    return "\r\n ".join(out)


def _stamp(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def calendar_render(meetings: Iterable[Meeting], *, name: str) -> str:
    host = settings.SITE_URL.rstrip("/")
    domain = host.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0] or "agora"
    now = _stamp(timezone.now())
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{ical_escape(name)}",
    ]
    for meeting in meetings:
        agenda = [item.title for item in meeting.agenda_items.all()]
        description = "Agenda:\n" + "\n".join(f"- {t}" for t in agenda) if agenda else ""
        lines += [
            "BEGIN:VEVENT",
            f"UID:meeting-{meeting.pk}@{domain}",
            f"DTSTAMP:{now}",
            f"DTSTART:{_stamp(meeting.starts_at)}",
            f"DTEND:{_stamp(meeting.ends_at)}",
            f"SUMMARY:{ical_escape(meeting.title)}",
            f"URL:{host}/meetings/{meeting.pk}/",
            "STATUS:CANCELLED" if meeting.status == MeetingStatus.CANCELLED else "STATUS:CONFIRMED",
        ]
        if description:
            lines.append(f"DESCRIPTION:{ical_escape(description)}")
        lines.append("END:VEVENT")
    lines.append("END:VCALENDAR")
    return "\r\n".join(ical_fold(line) for line in lines) + "\r\n"
