"""Editing a task from its page: every field at once, errors next to their field,
permission-checked and audited."""

from __future__ import annotations

from decimal import Decimal

import pytest

from community.roadmap.models import Task, TaskStatus
from community.roadmap.services import milestone_create, task_create, wip_limit_set
from portal.models import AuditEntry

pytestmark = pytest.mark.django_db


def _form(task: Task, **changes: str) -> dict[str, str]:
    data = {
        "title": task.title,
        "description": task.description,
        "owner": task.owner.username if task.owner else "",
        "estimate_days": "",
        "priority": str(task.priority),
        "labels": " ".join(task.labels),
        "milestone": str(task.milestone_id or ""),
        "depends_on": "",
        "status": task.status,
    }
    data.update(changes)
    return data


def test_owner_edits_every_field_and_each_change_is_audited(client, maintainer, member):
    milestone = milestone_create(actor=maintainer, name="Q3")
    dep = task_create(actor=maintainer, key="OPS", title="Dependency", status=TaskStatus.DONE)
    task = task_create(actor=maintainer, key="OPS", title="Old title", owner=member)
    client.force_login(member)

    page = client.get(f"/roadmap/tasks/{task.code}/").content.decode()
    assert 'action="/roadmap/tasks/OPS-002/edit/"' in page

    response = client.post(
        f"/roadmap/tasks/{task.code}/edit/",
        _form(
            task,
            title="New title",
            description="Now described.",
            owner=maintainer.username,
            estimate_days="2.5",
            priority="1",
            labels="ops, infra",
            milestone=str(milestone.pk),
            depends_on=dep.code,
            status=TaskStatus.TODO,
        ),
    )

    assert response.status_code == 302
    task.refresh_from_db()
    assert (task.title, task.description, task.owner, task.estimate_days, task.priority) == (
        "New title",
        "Now described.",
        maintainer,
        Decimal("2.50"),
        1,
    )
    assert task.labels == ["infra", "ops"] and task.milestone == milestone
    assert list(task.depends_on.values_list("code", flat=True)) == [dep.code]
    assert task.status == TaskStatus.TODO
    actions = set(
        AuditEntry.objects.filter(object_id=str(task.pk), actor=member).values_list(
            "action", flat=True
        )
    )
    assert actions == {"roadmap.task.update", "roadmap.task.dependencies", "roadmap.task.move"}


def test_cycle_is_refused_naming_the_chain_and_nothing_is_saved(client, maintainer):
    a = task_create(actor=maintainer, key="OPS", title="A")
    b = task_create(actor=maintainer, key="OPS", title="B", depends_on=[a])
    c = task_create(actor=maintainer, key="OPS", title="C", depends_on=[b])
    client.force_login(maintainer)

    response = client.post(
        f"/roadmap/tasks/{a.code}/edit/", _form(a, title="A renamed", depends_on=c.code)
    )

    assert response.status_code == 400
    body = response.content.decode()
    assert 'id="error-depends_on"' in body
    assert "OPS-001 → OPS-003 → OPS-002 → OPS-001" in body
    assert 'value="A renamed"' in body  # the user's input is kept
    a.refresh_from_db()
    assert a.title == "A" and not a.depends_on.exists()  # all or nothing


def test_enforced_wip_limit_is_shown_on_the_status_field(client, maintainer, steward):
    wip_limit_set(actor=steward, status=TaskStatus.IN_PROGRESS, limit=1, enforce=True)
    task_create(actor=maintainer, key="OPS", title="busy", status=TaskStatus.IN_PROGRESS)
    task = task_create(actor=maintainer, key="OPS", title="next", status=TaskStatus.TODO)
    client.force_login(maintainer)

    response = client.post(
        f"/roadmap/tasks/{task.code}/edit/", _form(task, status=TaskStatus.IN_PROGRESS)
    )

    assert response.status_code == 400
    body = response.content.decode()
    assert 'id="error-status"' in body and "WIP limit" in body
    task.refresh_from_db()
    assert task.status == TaskStatus.TODO


def test_bad_values_are_named_by_field(client, maintainer):
    task = task_create(actor=maintainer, key="OPS", title="t")
    client.force_login(maintainer)

    for field, value, text in [
        ("owner", "nobody-here", "no user"),
        ("estimate_days", "-3", "estimate_days"),
        ("labels", "Bad Label!", "not a label"),
        ("depends_on", "OPS-999", "unknown task OPS-999"),
        ("title", "  ", "title: required"),
    ]:
        response = client.post(f"/roadmap/tasks/{task.code}/edit/", _form(task, **{field: value}))
        body = response.content.decode()
        assert response.status_code == 400, field
        assert f'id="error-{field}"' in body and text in body, field


def test_another_member_is_refused(client, maintainer, member, other_member):
    task = task_create(actor=maintainer, key="OPS", title="Mine", owner=member)
    client.force_login(other_member)

    assert 'id="task-edit"' not in client.get(f"/roadmap/tasks/{task.code}/").content.decode()
    response = client.post(f"/roadmap/tasks/{task.code}/edit/", _form(task, title="Taken"))

    assert response.status_code == 403
    task.refresh_from_db()
    assert task.title == "Mine"
    assert not AuditEntry.objects.filter(actor=other_member).exists()


def test_new_open_dependency_blocks_a_task_whose_status_field_was_left_alone(client, maintainer):
    open_dep = task_create(actor=maintainer, key="OPS", title="Not done yet")
    task = task_create(actor=maintainer, key="OPS", title="t", status=TaskStatus.TODO)
    client.force_login(maintainer)

    response = client.post(
        f"/roadmap/tasks/{task.code}/edit/", _form(task, depends_on=open_dep.code)
    )

    assert response.status_code == 302
    task.refresh_from_db()
    assert task.status == TaskStatus.BLOCKED
