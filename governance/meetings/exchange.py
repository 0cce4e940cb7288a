"""Meeting notes as JSON Lines (one object per agenda item note, tagged ``meeting:<type>``,
the shape an operations notes log uses) and the idempotent import of the same lines."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from governance.meetings.models import (
    AgendaItem,
    Meeting,
    MeetingSeries,
    MeetingType,
)
from governance.meetings.services.minutes import minutes_text
from portal.api.errors import DomainError
from portal.audit import audit_record


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def meeting_export_markdown(meeting: Meeting) -> str:
    return minutes_text(meeting)


def meetings_for_export(
    *, series: MeetingSeries | None = None, start: date | None = None, end: date | None = None
) -> QuerySet[Meeting]:
    qs = Meeting.objects.select_related("series")
    if series is not None:
        qs = qs.filter(series=series)
    if start is not None:
        qs = qs.filter(starts_at__gte=datetime.combine(start, time.min, tzinfo=UTC))
    if end is not None:
        qs = qs.filter(
            starts_at__lt=datetime.combine(end + timedelta(days=1), time.min, tzinfo=UTC)
        )
    return qs.order_by("starts_at", "id")


def notes_export(meetings: QuerySet[Meeting]) -> Iterator[str]:
    """One line per agenda item that has notes."""
    items = (
        AgendaItem.objects.filter(meeting__in=meetings)
        .exclude(notes="")
        .select_related("meeting", "meeting__series", "notes_updated_by")
        .order_by("meeting__starts_at", "meeting_id", "position", "id")
    )
    for item in items:
        meeting = item.meeting
        series_title = meeting.series.title if meeting.series else ""
        yield json.dumps(
            {
                "id": f"{_iso(meeting.starts_at)}/{series_title or meeting.title}/{item.position}",
                "ts": _iso(meeting.starts_at),
                "title": item.title,
                "text": item.notes,
                "tags": [f"meeting:{meeting.meeting_type}"],
                "meeting": meeting.title,
                "series": series_title,
                "position": item.position,
                "author": item.notes_updated_by.username if item.notes_updated_by else None,
            },
            ensure_ascii=False,
        )


@dataclass
class NotesImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
        }


def _parse(number: int, raw: str) -> dict[str, Any]:
    try:
        obj = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON ({exc.msg})") from None
    if not isinstance(obj, dict):
        raise ValueError("not a JSON object")
    for name in ("ts", "title", "text", "meeting"):
        if not isinstance(obj.get(name), str) or not obj[name].strip():
            raise ValueError(f"{name}: required string")
    try:
        obj["_ts"] = datetime.fromisoformat(obj["ts"].replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"ts: {obj['ts']!r} is not an ISO 8601 date-time") from None
    if timezone.is_naive(obj["_ts"]):
        raise ValueError("ts: include a time zone (e.g. Z)")
    tags = obj.get("tags") or []
    kind = next(
        (t.split(":", 1)[1] for t in tags if isinstance(t, str) and t.startswith("meeting:")),
        MeetingType.OTHER,
    )
    obj["_type"] = kind if kind in MeetingType.values else MeetingType.OTHER
    position = obj.get("position", 0)
    if not isinstance(position, int) or position < 0:
        raise ValueError("position: a whole number ≥ 0")
    return obj


def notes_import(
    *, actor: Any, lines: Iterable[str], skip_bad_lines: bool = False
) -> NotesImportReport:
    """Import notes (maintainers, stewards): meetings found by (series, title, start) or
    created, items by (position, title); a note already equal is left alone."""
    if not (actor and actor.is_authenticated and actor.has_role("maintainer")):
        raise DomainError(
            "only maintainers and stewards import notes", code="not_allowed", status_code=403
        )
    report = NotesImportReport()
    rows = []
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            rows.append((number, _parse(number, raw)))
        except ValueError as exc:
            report.rejected.append({"line": number, "reason": str(exc)})
    if report.rejected and not skip_bad_lines:
        first = report.rejected[0]
        raise DomainError(
            f"line {first['line']}: {first['reason']} (nothing was imported)",
            code="import_rejected",
            fields={f"line {r['line']}": [r["reason"]] for r in report.rejected[:200]},
        )
    with transaction.atomic():
        for number, obj in rows:
            series = (
                MeetingSeries.objects.filter(title=obj.get("series")).first()
                if obj.get("series")
                else None
            )
            meeting = Meeting.objects.filter(
                series=series, title=obj["meeting"], starts_at=obj["_ts"]
            ).first()
            if meeting is None:
                meeting = Meeting.objects.create(
                    series=series,
                    title=obj["meeting"][:160],
                    meeting_type=obj["_type"],
                    starts_at=obj["_ts"],
                    ends_at=obj["_ts"] + timedelta(hours=1),
                )
            if meeting.minutes_locked:
                report.rejected.append(
                    {"line": number, "reason": "the meeting's minutes are approved and locked"}
                )
                continue
            item = AgendaItem.objects.filter(
                meeting=meeting, position=obj.get("position", 0), title=obj["title"]
            ).first()
            if item is None:
                AgendaItem.objects.create(
                    meeting=meeting,
                    position=obj.get("position", 0),
                    title=obj["title"][:200],
                    notes=obj["text"],
                    notes_version=1,
                )
                report.created += 1
            elif item.notes == obj["text"]:
                report.unchanged += 1
            else:
                item.notes = obj["text"]
                item.notes_version += 1
                item.save(update_fields=["notes", "notes_version"])
                report.updated += 1
        audit_record(
            actor=actor,
            action="meetings.notes.import",
            object_type="meetings.agendaitem",
            detail=report.as_dict() | {"rejected": len(report.rejected)},
        )
    return report
