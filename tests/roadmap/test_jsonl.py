"""JSON Lines import/export: round trip, idempotence, all-or-nothing, line-numbered errors."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command

from community.roadmap.jsonl import ImportRejected, tasks_export, tasks_import
from community.roadmap.models import Milestone, ProjectCounter, Task, TaskDependency
from community.roadmap.services import task_create
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _line(**fields):
    base = {"id": "OPS-001", "title": "T", "status": "todo"}
    return json.dumps(base | fields)


def _sample_lines() -> list[str]:
    return [
        _line(
            id="OPS-001",
            title="Backups",
            status="done",
            owner="alice",
            estimate_days=2,
            milestone="Phase 1",
            labels=["ops"],
            created="2026-01-05T09:00:00Z",
            updated="2026-01-09T10:30:00.123456Z",
        ),
        _line(
            id="OPS-002",
            title="Restore drill",
            status="todo",
            owner=None,
            estimate_days=0.5,
            milestone="Phase 1",
            depends_on=["OPS-001"],
            labels=["ops", "security"],
            created="2026-01-06T09:00:00Z",
            updated="2026-01-06T09:00:00Z",
        ),
        _line(
            id="DOC-007",
            title="Runbook",
            status="backlog",
            owner="alice",
            estimate_days=None,
            milestone=None,
            depends_on=["OPS-002", "OPS-001"],
            labels=[],
            created="2026-01-07T09:00:00Z",
            updated="2026-01-08T09:00:00Z",
        ),
    ]


def test_round_trip_export_import_into_empty_database_export_is_identical(maintainer):
    UserFactory(username="alice")
    report = tasks_import(actor=maintainer, lines=_sample_lines())
    assert (report.created, report.updated, report.rejected) == (3, 0, [])
    first = list(tasks_export())
    # Into an empty database: wipe everything the import created.
    TaskDependency.objects.all().delete()
    Task.objects.all().delete()
    Milestone.objects.all().delete()
    ProjectCounter.objects.all().delete()
    tasks_import(actor=maintainer, lines=first)
    second = list(tasks_export())
    assert second == first
    by_id = {json.loads(line)["id"]: json.loads(line) for line in first}
    assert by_id["DOC-007"]["depends_on"] == ["OPS-001", "OPS-002"]
    assert by_id["OPS-001"]["updated"] == "2026-01-09T10:30:00.123456Z"
    assert by_id["OPS-002"]["estimate_days"] == 0.5


def test_import_is_idempotent_by_id(maintainer):
    UserFactory(username="alice")
    tasks_import(actor=maintainer, lines=_sample_lines())
    again = tasks_import(actor=maintainer, lines=_sample_lines())
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    changed = _sample_lines()
    changed[1] = changed[1].replace("Restore drill", "Restore drill (quarterly)")
    third = tasks_import(actor=maintainer, lines=changed)
    assert (third.created, third.updated, third.unchanged) == (0, 1, 2)
    assert Task.objects.get(code="OPS-002").title == "Restore drill (quarterly)"
    assert Task.objects.count() == 3


def test_bad_lines_are_reported_by_number_and_nothing_is_imported(maintainer):
    lines = [
        _line(id="OPS-001"),
        "{not json",
        _line(id="OPS-003", owner="ghost"),
        _line(id="OPS-004", status="doing"),
        _line(id="OPS-005", depends_on=["OPS-099"]),
        _line(id="OPS-006", depends_on=["OPS-007"]),
        _line(id="OPS-007", depends_on=["OPS-006"]),
        _line(id="OPS-008", estimate_days=-2),
    ]
    with pytest.raises(ImportRejected) as exc:
        tasks_import(actor=maintainer, lines=lines)
    reasons = {e.line: e.reason for e in exc.value.report.rejected}
    assert reasons[2].startswith("not valid JSON")
    assert reasons[3] == "owner: no user 'ghost'"
    assert reasons[4].startswith("status: 'doing' is not one of")
    assert reasons[5] == "depends_on: unknown task OPS-099"
    assert "dependency cycle OPS-006 → OPS-007 → OPS-006" in reasons[6]
    assert "dependency cycle" in reasons[7]
    assert reasons[8].startswith("estimate_days")
    assert 1 not in reasons
    assert exc.value.fields["line 3"] == ["owner: no user 'ghost'"]
    assert not Task.objects.exists()


def test_skip_bad_lines_imports_the_rest_and_rejects_dependents_of_bad_lines(maintainer):
    lines = [
        _line(id="OPS-001"),
        _line(id="OPS-002", owner="ghost"),
        _line(id="OPS-003", depends_on=["OPS-002"]),
        _line(id="OPS-001", title="duplicate"),
    ]
    report = tasks_import(actor=maintainer, lines=lines, skip_bad_lines=True)
    assert report.created == 1
    assert [(e.line, e.reason) for e in report.rejected] == [
        (2, "owner: no user 'ghost'"),
        (3, "depends_on: OPS-002 was rejected"),
        (4, "id: OPS-001 already on line 1"),
    ]
    assert list(Task.objects.values_list("code", flat=True)) == ["OPS-001"]


def test_import_keeps_the_counter_ahead_of_imported_numbers(maintainer):
    tasks_import(actor=maintainer, lines=[_line(id="OPS-041")])
    assert task_create(actor=maintainer, key="OPS", title="next").code == "OPS-042"


def test_members_cannot_import(member):
    from portal.api.errors import DomainError

    with pytest.raises(DomainError) as exc:
        tasks_import(actor=member, lines=[_line()])
    assert exc.value.status_code == 403


def test_management_commands_round_trip(tmp_path, maintainer):
    UserFactory(username="alice")
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(_sample_lines()) + "\n")
    out = io.StringIO()
    call_command("roadmap_import", str(source), stdout=out)
    assert "created 3" in out.getvalue()
    target = tmp_path / "out.jsonl"
    call_command("roadmap_export", str(target))
    exported = target.read_text().splitlines()
    assert [json.loads(x)["id"] for x in exported] == ["DOC-007", "OPS-001", "OPS-002"]
    bad = tmp_path / "bad.jsonl"
    bad.write_text(_line(id="OPS-009", owner="ghost") + "\n")
    err = io.StringIO()
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("roadmap_import", str(bad), stderr=err)
    assert "line 1: owner: no user 'ghost'" in err.getvalue()
