"""Series, agenda templates and the cadence that schedules upcoming meetings."""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from django.db import IntegrityError, transaction
from django.utils import timezone

from governance.meetings.models import (
    AgendaItem,
    AgendaTemplate,
    Attendance,
    Cadence,
    Meeting,
    MeetingSeries,
    MeetingType,
)
from governance.meetings.templates_data import SHIPPED_TEMPLATES
from governance.meetings.topics import meeting_publish
from portal.api.errors import DomainError
from portal.audit import audit_record

# How many upcoming meetings of each series the scheduler keeps.
SCHEDULE_AHEAD = 4
MAX_AGENDA_ITEMS = 50


def agenda_templates_ensure() -> None:
    """The shipped templates exist (the data migration adds them; flushed test databases
    and deleted rows get them back)."""
    for data in SHIPPED_TEMPLATES:
        if not AgendaTemplate.objects.filter(slug=data["slug"]).exists():
            try:
                with transaction.atomic():
                    AgendaTemplate.objects.create(**data)
            except IntegrityError:
                pass


def _items_clean(items: Any) -> list[dict[str, Any]]:
    if not isinstance(items, list) or not items:
        raise DomainError("items: a non-empty list", fields={"items": ["a non-empty list"]})
    if len(items) > MAX_AGENDA_ITEMS:
        raise DomainError(f"items: at most {MAX_AGENDA_ITEMS}", fields={"items": ["too many"]})
    out = []
    for index, item in enumerate(items):
        if not isinstance(item, dict) or not str(item.get("title", "")).strip():
            raise DomainError(
                f"items[{index}]: needs a title", fields={f"items[{index}]": ["title required"]}
            )
        minutes = item.get("minutes", 10)
        if not isinstance(minutes, int) or not 1 <= minutes <= 240:
            raise DomainError(
                f"items[{index}].minutes: 1-240",
                fields={f"items[{index}].minutes": ["whole minutes, 1-240"]},
            )
        out.append(
            {
                "title": str(item["title"]).strip()[:200],
                "minutes": minutes,
                **({"action_items": True} if item.get("action_items") else {}),
            }
        )
    return out


@transaction.atomic
def agenda_template_update(
    *, actor: Any, template: AgendaTemplate, name: str | None = None, items: Any = None
) -> AgendaTemplate:
    """Stewards edit the shipped (or their own) agenda templates."""
    if not (actor and actor.is_authenticated and actor.has_role("steward")):
        raise DomainError(
            "only stewards edit agenda templates", code="not_allowed", status_code=403
        )
    if name is not None:
        if not name.strip():
            raise DomainError("name: required", fields={"name": ["required"]})
        template.name = name.strip()[:120]
    if items is not None:
        template.items = _items_clean(items)
    template.updated_at = timezone.now()
    template.save()
    audit_record(
        actor=actor,
        action="meetings.template.update",
        obj=template,
        detail={"items": len(template.items)},
    )
    return template


def zone_clean(name: str) -> str:
    name = (name or "").strip()
    try:
        if not name or name not in available_timezones():
            raise ZoneInfoNotFoundError(name)
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise DomainError(
            f"time_zone: {name!r} is not an IANA time zone (e.g. Europe/Berlin)",
            fields={"time_zone": ["an IANA time zone name"]},
        ) from None
    return name


def _add_months(day: date, months: int, anchor_day: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(anchor_day, calendar.monthrange(year, month)[1]))


def occurrence_dates(series: MeetingSeries) -> Iterable[date]:
    """Local dates of the series, from its first date on (endless; ad hoc: just one)."""
    first = series.first_date
    if series.cadence == Cadence.ADHOC:
        yield first
        return
    index = 0
    while True:
        if series.cadence == Cadence.WEEKLY:
            yield first + timedelta(days=7 * index)
        elif series.cadence == Cadence.BIWEEKLY:
            yield first + timedelta(days=14 * index)
        else:
            yield _add_months(first, index, first.day)
        index += 1


def local_to_utc(day: date, at: time, zone: str) -> datetime:
    """The instant of a wall-clock time in ``zone``. The local time is kept across DST
    changes; a time skipped by a spring-forward gap lands just after it."""
    # zoneinfo reads a skipped wall time (fold=0) with the pre-gap offset: the instant
    # "gap length" after the switch, which is the start we want.
    return datetime.combine(day, at, tzinfo=ZoneInfo(zone)).astimezone(UTC)


def occurrences(series: MeetingSeries, *, after: datetime, count: int) -> list[datetime]:
    """The next ``count`` UTC start instants strictly after ``after``."""
    out: list[datetime] = []
    for day in occurrence_dates(series):
        start = local_to_utc(day, series.local_time, series.time_zone)
        if start > after:
            out.append(start)
            if len(out) >= count:
                break
        if day > after.date() + timedelta(days=3660):  # bound the walk (10 years)
            break
    return out


def meeting_from_series(series: MeetingSeries, starts_at: datetime) -> tuple[Meeting, bool]:
    """The series' meeting at ``starts_at``, created with the template's agenda and the
    default attendees when missing (idempotent under the (series, starts_at) constraint)."""
    existing = Meeting.objects.filter(series=series, starts_at=starts_at).first()
    if existing is not None:
        return existing, False
    local = starts_at.astimezone(ZoneInfo(series.time_zone))
    try:
        with transaction.atomic():
            meeting = Meeting.objects.create(
                series=series,
                title=f"{series.title} — {local:%Y-%m-%d}",
                meeting_type=series.meeting_type,
                starts_at=starts_at,
                ends_at=starts_at + timedelta(minutes=series.duration_minutes),
                chair=series.owners.order_by("id").first(),
                quorum=series.quorum,
            )
    except IntegrityError:
        return Meeting.objects.get(series=series, starts_at=starts_at), False
    if series.template is not None:
        AgendaItem.objects.bulk_create(
            [
                AgendaItem(
                    meeting=meeting,
                    position=index,
                    title=item["title"],
                    planned_minutes=item.get("minutes", 10),
                )
                for index, item in enumerate(series.template.items)
            ]
        )
    Attendance.objects.bulk_create(
        [Attendance(meeting=meeting, user=user) for user in series.default_attendees.all()],
        ignore_conflicts=True,
    )
    return meeting, True


@transaction.atomic
def series_schedule(
    *, series: MeetingSeries, now: datetime | None = None, ahead: int = SCHEDULE_AHEAD
) -> list[Meeting]:
    """Keep the next ``ahead`` meetings of the series scheduled; returns the new ones."""
    if not series.active:
        return []
    now = now or timezone.now()
    created = []
    for start in occurrences(series, after=now, count=ahead):
        meeting, is_new = meeting_from_series(series, start)
        if is_new:
            created.append(meeting)
    return created


@transaction.atomic
def series_create(
    *,
    actor: Any,
    title: str,
    cadence: str,
    time_zone: str,
    first_date: date,
    local_time: time,
    meeting_type: str = "",
    template: AgendaTemplate | None = None,
    duration_minutes: int = 60,
    owners: Iterable[Any] = (),
    default_attendees: Iterable[Any] = (),
    quorum: int | None = None,
    now: datetime | None = None,
) -> MeetingSeries:
    """A new series (maintainers and stewards run meetings); its first meetings are
    scheduled at once."""
    if not (actor and actor.is_authenticated and actor.has_role("maintainer")):
        raise DomainError(
            "only maintainers and stewards create meeting series",
            code="not_allowed",
            status_code=403,
        )
    title = (title or "").strip()
    if not title:
        raise DomainError("title: required", fields={"title": ["required"]})
    if cadence not in Cadence.values:
        raise DomainError(
            f"cadence: one of {', '.join(Cadence.values)}",
            fields={"cadence": [f"one of {', '.join(Cadence.values)}"]},
        )
    meeting_type = meeting_type or (template.meeting_type if template else MeetingType.OTHER)
    if meeting_type not in MeetingType.values:
        raise DomainError(
            f"meeting_type: one of {', '.join(MeetingType.values)}",
            fields={"meeting_type": ["unknown type"]},
        )
    if not 5 <= duration_minutes <= 24 * 60:
        raise DomainError("duration_minutes: 5 to 1440", fields={"duration_minutes": ["5 to 1440"]})
    if quorum is not None and quorum < 1:
        raise DomainError("quorum: at least 1", fields={"quorum": ["at least 1"]})
    series = MeetingSeries.objects.create(
        title=title[:120],
        meeting_type=meeting_type,
        cadence=cadence,
        time_zone=zone_clean(time_zone),
        first_date=first_date,
        local_time=local_time,
        duration_minutes=duration_minutes,
        template=template,
        quorum=quorum,
        created_by=actor,
    )
    series.owners.set([actor, *owners])
    series.default_attendees.set(list(default_attendees))
    audit_record(
        actor=actor,
        action="meetings.series.create",
        obj=series,
        detail={"cadence": cadence, "time_zone": series.time_zone},
    )
    series_schedule(series=series, now=now)
    return series


@transaction.atomic
def meeting_create_adhoc(
    *,
    actor: Any,
    title: str,
    starts_at: datetime,
    duration_minutes: int = 60,
    template: AgendaTemplate | None = None,
    series: MeetingSeries | None = None,
) -> Meeting:
    """A one-off meeting (chaired by its creator), optionally from a template."""
    if not (actor and actor.is_authenticated and actor.has_role("maintainer")):
        raise DomainError(
            "only maintainers and stewards schedule meetings", code="not_allowed", status_code=403
        )
    if not (title or "").strip():
        raise DomainError("title: required", fields={"title": ["required"]})
    if timezone.is_naive(starts_at):
        raise DomainError("starts_at: include a time zone", fields={"starts_at": ["aware"]})
    meeting = Meeting.objects.create(
        series=series,
        title=title.strip()[:160],
        meeting_type=(series.meeting_type if series else None)
        or (template.meeting_type if template else MeetingType.OTHER),
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=max(5, duration_minutes)),
        chair=actor,
        quorum=series.quorum if series else None,
    )
    if template is not None:
        AgendaItem.objects.bulk_create(
            [
                AgendaItem(
                    meeting=meeting,
                    position=i,
                    title=item["title"],
                    planned_minutes=item["minutes"],
                )
                for i, item in enumerate(template.items)
            ]
        )
    audit_record(actor=actor, action="meetings.meeting.create", obj=meeting)
    meeting_publish(meeting.pk, "meeting.created", {"meeting": meeting.pk})
    return meeting
