"""iCalendar feeds and the notes JSON Lines export/import."""

from __future__ import annotations

import json
from datetime import UTC, timedelta

import pytest
from django.utils import timezone

from governance.meetings.exchange import meetings_for_export, notes_export, notes_import
from governance.meetings.ical import ical_escape, ical_fold
from governance.meetings.models import AgendaItem, Meeting
from governance.meetings.services import note_save
from governance.meetings.views import calendar_token

pytestmark = pytest.mark.django_db


def test_fold_at_75_octets_without_splitting_characters():
    line = "SUMMARY:" + "é" * 60
    folded = ical_fold(line)
    parts = folded.split("\r\n")
    assert all(len(p.encode()) <= 75 for p in parts)
    assert all(p.startswith(" ") for p in parts[1:])
    assert "".join(p[1:] if i else p for i, p in enumerate(parts)) == line


def test_escape_text_values():
    assert ical_escape("a,b;c\\d\ne") == "a\\,b\\;c\\\\d\\ne"


def test_series_and_user_calendars(client, make_series, member, other_member):
    series = make_series(
        title="Infra; weekly, Berlin",
        first_date=timezone.localdate() + timedelta(days=1),
        default_attendees=[member],
    )
    body = client.get(f"/meetings/series/{series.pk}/calendar.ics").content.decode()
    assert body.startswith("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n")
    assert body.endswith("END:VCALENDAR\r\n")
    assert body.count("BEGIN:VEVENT") == 4
    assert "SUMMARY:Infra\\; weekly\\, Berlin" in body
    first = Meeting.objects.filter(series=series).order_by("starts_at").first()
    assert f"DTSTART:{first.starts_at.astimezone(UTC):%Y%m%dT%H%M%SZ}" in body
    mine = client.get(f"/meetings/calendar/{calendar_token(member)}.ics").content.decode()
    assert mine.count("BEGIN:VEVENT") == 4
    theirs = client.get(f"/meetings/calendar/{calendar_token(other_member)}.ics").content.decode()
    assert "BEGIN:VEVENT" not in theirs
    assert client.get("/meetings/calendar/forged.ics").status_code == 404


def test_notes_export_tags_and_idempotent_import(make_series, maintainer, member):
    series = make_series(first_date=timezone.localdate() + timedelta(days=1))
    meeting = Meeting.objects.filter(series=series).order_by("starts_at").first()
    item = meeting.agenda_items.first()
    note_save(actor=maintainer, item=item, text="Ledger balanced.", version=0)
    lines = list(notes_export(meetings_for_export(series=series)))
    assert len(lines) == 1
    obj = json.loads(lines[0])
    assert obj["tags"] == ["meeting:security-infra"]
    assert obj["text"] == "Ledger balanced." and obj["title"] == item.title
    # The same lines again change nothing; an edited line updates the note.
    report = notes_import(actor=maintainer, lines=lines)
    assert (report.created, report.updated, report.unchanged) == (0, 0, 1)
    obj["text"] = "Ledger balanced; one warning."
    report = notes_import(actor=maintainer, lines=[json.dumps(obj)])
    assert report.updated == 1
    assert AgendaItem.objects.get(pk=item.pk).notes == "Ledger balanced; one warning."
    # Into a database without the meeting: created once, then unchanged.
    obj["series"] = ""
    obj["meeting"] = "Imported meeting"
    assert notes_import(actor=maintainer, lines=[json.dumps(obj)]).created == 1
    assert notes_import(actor=maintainer, lines=[json.dumps(obj)]).unchanged == 1
    with pytest.raises(Exception, match="line 1"):
        notes_import(actor=maintainer, lines=["{bad"])
    with pytest.raises(Exception, match="only maintainers"):
        notes_import(actor=member, lines=lines)
