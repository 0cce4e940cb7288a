"""Roadmap tasks: numbering, dependencies and cycles, WIP limits, done → contribution."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.db import connection

from community.models import Contribution
from community.roadmap.models import Task, TaskStatus
from community.roadmap.services import (
    milestone_create,
    task_create,
    task_dependencies_set,
    task_move,
    task_update,
    wip_limit_set,
)
from portal.api.errors import DomainError
from portal.models import AuditEntry

pytestmark = pytest.mark.django_db


def test_tasks_are_numbered_in_sequence_per_project_key(maintainer):
    a = task_create(actor=maintainer, key="ops", title="One")
    b = task_create(actor=maintainer, key="OPS", title="Two")
    c = task_create(actor=maintainer, key="DOC", title="Other key")
    assert [a.code, b.code, c.code] == ["OPS-001", "OPS-002", "DOC-001"]


@pytest.mark.django_db(transaction=True)
def test_concurrent_creators_get_distinct_numbers(maintainer):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers; the row lock matters on PostgreSQL")
    codes: list[str] = []
    errors: list[Exception] = []

    def create(n: int) -> None:
        from django.db import connection as thread_connection

        try:
            codes.append(task_create(actor=maintainer, key="RACE", title=f"t{n}").code)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            thread_connection.close()

    threads = [threading.Thread(target=create, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert errors == []
    assert sorted(codes) == [f"RACE-{n:03d}" for n in range(1, 9)]


def test_bad_input_names_the_field(maintainer):
    with pytest.raises(DomainError) as exc:
        task_create(actor=maintainer, key="OPS", title="x", owner="nobody-here")
    assert exc.value.fields == {"owner": ["unknown 'nobody-here'"]}
    with pytest.raises(DomainError) as exc:
        task_create(actor=maintainer, key="OPS", title="x", estimate_days="-1")
    assert "estimate_days" in exc.value.fields
    with pytest.raises(DomainError) as exc:
        task_create(actor=maintainer, key="o", title="x")
    assert "key" in exc.value.fields
    assert not Task.objects.exists()


def test_members_cannot_plan_and_only_owner_or_maintainer_edits(member, other_member, maintainer):
    with pytest.raises(DomainError) as exc:
        task_create(actor=member, key="OPS", title="nope")
    assert exc.value.status_code == 403
    task = task_create(actor=maintainer, key="OPS", title="Mine", owner=member)
    task_update(actor=member, task=task, title="Mine, renamed")
    with pytest.raises(DomainError) as exc:
        task_move(actor=other_member, task=task, status=TaskStatus.TODO)
    assert exc.value.status_code == 403
    task.refresh_from_db()
    assert task.status == TaskStatus.BACKLOG and task.title == "Mine, renamed"


def test_dependency_cycle_is_refused_naming_the_chain(maintainer):
    a = task_create(actor=maintainer, key="OPS", title="A")
    b = task_create(actor=maintainer, key="OPS", title="B", depends_on=[a])
    c = task_create(actor=maintainer, key="OPS", title="C", depends_on=[b])
    with pytest.raises(DomainError) as exc:
        task_dependencies_set(actor=maintainer, task=a, depends_on=[c])
    assert exc.value.code == "cycle"
    assert "OPS-001 → OPS-003 → OPS-002 → OPS-001" in exc.value.message
    with pytest.raises(DomainError):
        task_dependencies_set(actor=maintainer, task=a, depends_on=[a])
    assert list(a.depends_on.all()) == []


def test_task_is_blocked_until_its_dependencies_are_done(maintainer):
    first = task_create(actor=maintainer, key="OPS", title="First", status=TaskStatus.TODO)
    second = task_create(
        actor=maintainer, key="OPS", title="Second", status=TaskStatus.TODO, depends_on=[first]
    )
    assert second.status == TaskStatus.BLOCKED
    with pytest.raises(DomainError) as exc:
        task_move(actor=maintainer, task=second, status=TaskStatus.IN_PROGRESS)
    assert exc.value.code == "blocked" and "OPS-001" in exc.value.message
    task_move(actor=maintainer, task=first, status=TaskStatus.DONE)
    second.refresh_from_db()
    assert second.status == TaskStatus.TODO
    task_move(actor=maintainer, task=second, status=TaskStatus.IN_PROGRESS)


def test_wip_limit_warns_and_refuses_when_a_steward_enforces_it(maintainer, steward):
    milestone = milestone_create(actor=maintainer, name="M1")
    tasks = [
        task_create(actor=maintainer, key="OPS", title=f"t{i}", milestone=milestone)
        for i in range(3)
    ]
    with pytest.raises(DomainError):
        wip_limit_set(actor=maintainer, status=TaskStatus.IN_PROGRESS, limit=2)
    wip_limit_set(actor=steward, status=TaskStatus.IN_PROGRESS, limit=2)
    assert task_move(actor=maintainer, task=tasks[0], status="in_progress").warning == ""
    assert task_move(actor=maintainer, task=tasks[1], status="in_progress").warning == ""
    over = task_move(actor=maintainer, task=tasks[2], status="in_progress")
    assert over.warning.startswith("WIP limit: In progress holds at most 2 tasks")
    task_move(actor=maintainer, task=tasks[2], status="todo")
    wip_limit_set(actor=steward, status=TaskStatus.IN_PROGRESS, limit=2, enforce=True)
    with pytest.raises(DomainError) as exc:
        task_move(actor=maintainer, task=tasks[2], status="in_progress")
    assert exc.value.code == "wip_limit" and exc.value.status_code == 409
    tasks[2].refresh_from_db()
    assert tasks[2].status == TaskStatus.TODO


def test_done_task_emits_one_contribution_for_its_owner(maintainer, member):
    task = task_create(
        actor=maintainer, key="OPS", title="Ship it", owner=member, estimate_days=Decimal("3")
    )
    task_move(actor=member, task=task, status=TaskStatus.IN_PROGRESS)
    task_move(actor=member, task=task, status=TaskStatus.DONE)
    contribution = Contribution.objects.get(external_id="roadmap:task:OPS-001")
    assert contribution.contributor.user == member
    assert contribution.source == "roadmap" and contribution.effort == "medium"
    # Reopening and finishing again does not pay twice.
    task_move(actor=member, task=task, status=TaskStatus.IN_PROGRESS)
    task_move(actor=member, task=task, status=TaskStatus.DONE)
    assert Contribution.objects.filter(external_id="roadmap:task:OPS-001").count() == 1
    assert AuditEntry.objects.filter(action="roadmap.task.move").count() == 4


def test_position_reorders_the_column(maintainer):
    tasks = [
        task_create(actor=maintainer, key="OPS", title=f"t{i}", status="todo") for i in range(3)
    ]
    task_move(actor=maintainer, task=tasks[2], status="todo", position=0)
    order = list(
        Task.objects.filter(status="todo").order_by("position").values_list("code", flat=True)
    )
    assert order == ["OPS-003", "OPS-001", "OPS-002"]
