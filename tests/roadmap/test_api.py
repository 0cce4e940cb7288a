"""Roadmap API: filters, constant query count, moves, import/export, permissions."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from community.roadmap.models import Task
from community.roadmap.services import milestone_create, task_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def planned(maintainer, member):
    milestone = milestone_create(actor=maintainer, name="Phase 1")
    a = task_create(
        actor=maintainer, key="OPS", title="A", labels=["ops"], milestone=milestone, owner=member
    )
    b = task_create(actor=maintainer, key="OPS", title="B", labels=["docs"], depends_on=[a])
    return milestone, a, b


def test_filters_by_status_owner_milestone_and_label(api_as, member, planned):
    milestone, _a, _b = planned
    client = api_as(member)
    ids = lambda r: [t["id"] for t in r.json()["results"]]  # noqa: E731
    assert ids(client.get(f"/api/v1/tasks/?milestone={milestone.pk}")) == ["OPS-001"]
    assert ids(client.get("/api/v1/tasks/?label=docs")) == ["OPS-002"]
    assert ids(client.get(f"/api/v1/tasks/?owner={member.username}")) == ["OPS-001"]
    assert ids(client.get("/api/v1/tasks/?status=backlog")) == ["OPS-001", "OPS-002"]
    task_b = client.get("/api/v1/tasks/OPS-002/").json()
    assert task_b["depends_on"] == ["OPS-001"]


def test_task_list_query_count_does_not_grow_with_tasks(api_as, maintainer, member):
    milestone = milestone_create(actor=maintainer, name="M")
    client = api_as(member)

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(f"/api/v1/tasks/?milestone={milestone.pk}").status_code == 200
        return len(ctx.captured_queries)

    previous = None
    for batch in (3, 30):
        for i in range(batch):
            deps = list(Task.objects.order_by("-id")[:1])
            task_create(
                actor=maintainer, key="QC", title=f"t{i}", milestone=milestone, depends_on=deps
            )
        current = count()
        if previous is not None:
            assert current == previous
        previous = current


def test_move_via_patch_reports_wip_warning_and_blocking(api_as, maintainer, steward, planned):
    _planned = planned
    client = api_as(maintainer)
    blocked = client.patch("/api/v1/tasks/OPS-002/", {"status": "in_progress"}, format="json")
    assert blocked.status_code == 409 and blocked.json()["error"]["code"] == "blocked"
    api_as(steward).post(
        "/api/v1/tasks/wip-limits/", {"status": "in_progress", "limit": 1}, format="json"
    )
    client.patch("/api/v1/tasks/OPS-001/", {"status": "in_progress"}, format="json")
    c = task_create(actor=maintainer, key="OPS", title="C")
    response = client.patch(f"/api/v1/tasks/{c.code}/", {"status": "in_progress"}, format="json")
    assert response.status_code == 200
    assert response.json()["wip_warning"].startswith("WIP limit")


def test_cycle_through_api_names_field(api_as, maintainer, planned):
    response = api_as(maintainer).patch(
        "/api/v1/tasks/OPS-001/", {"depends_on": ["OPS-002"]}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "cycle"
    assert "depends_on" in response.json()["error"]["fields"]


def test_other_member_cannot_move_someone_elses_task(api_as, other_member, planned):
    response = api_as(other_member).patch(
        "/api/v1/tasks/OPS-001/", {"status": "todo"}, format="json"
    )
    assert response.status_code == 403
    assert (
        api_as(other_member)
        .post("/api/v1/tasks/", {"key": "OPS", "title": "x"}, format="json")
        .status_code
        == 403
    )
    assert (
        api_as(other_member)
        .post("/api/v1/tasks/wip-limits/", {"status": "todo", "limit": 1}, format="json")
        .status_code
        == 403
    )


def test_import_and_export_endpoints(api_as, maintainer, member):
    lines = "\n".join(
        [
            json.dumps({"id": "OPS-001", "title": "A", "status": "todo"}),
            json.dumps(
                {"id": "OPS-002", "title": "B", "status": "todo", "depends_on": ["OPS-001"]}
            ),
        ]
    )
    client = api_as(maintainer)
    response = client.post("/api/v1/tasks/import/", data=lines, content_type="application/x-ndjson")
    assert response.status_code == 200, response.content
    assert response.json()["created"] == 2
    bad = client.post(
        "/api/v1/tasks/import/",
        data=lines + "\n{oops",
        content_type="application/x-ndjson",
    )
    assert bad.status_code == 400
    assert bad.json()["rejected"][0]["line"] == 3
    assert "line 3" in bad.json()["error"]["fields"]
    skipped = client.post(
        "/api/v1/tasks/import/?skip_bad_lines=1",
        data=lines + "\n{oops",
        content_type="application/x-ndjson",
    )
    assert skipped.json()["unchanged"] == 2 and len(skipped.json()["rejected"]) == 1
    exported = b"".join(client.get("/api/v1/tasks/export/").streaming_content).decode()
    assert [json.loads(x)["id"] for x in exported.splitlines()] == ["OPS-001", "OPS-002"]
    refused = api_as(member).post(
        "/api/v1/tasks/import/", data=lines, content_type="application/x-ndjson"
    )
    assert refused.status_code == 403


def test_milestones_api(api_as, maintainer, member):
    created = api_as(maintainer).post(
        "/api/v1/milestones/",
        {"name": "P2", "start_date": "2026-02-01", "target_date": "2026-01-01"},
        format="json",
    )
    assert created.status_code == 400 and "target_date" in created.json()["error"]["fields"]
    ok = api_as(maintainer).post("/api/v1/milestones/", {"name": "P2"}, format="json")
    assert ok.status_code == 201
    assert (
        api_as(member).post("/api/v1/milestones/", {"name": "P3"}, format="json").status_code == 403
    )
    assert [m["name"] for m in api_as(member).get("/api/v1/milestones/").json()] == ["P2"]
