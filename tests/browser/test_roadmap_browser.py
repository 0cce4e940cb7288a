"""Roadmap in a real browser: a long column pages in with "show more", and a task's edit
form refuses a dependency cycle by naming it, then saves once fixed."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from community.roadmap.models import Task, TaskStatus
from community.roadmap.selectors import COLUMN_CARDS
from community.roadmap.services import milestone_create, task_create
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_show_more_then_edit_a_task_with_a_cycle_refused(page, login):
    planner = UserFactory(role="maintainer")
    milestone = milestone_create(actor=planner, name="Phase 1")
    first = task_create(
        actor=planner, key="OPS", title="Base", milestone=milestone, status=TaskStatus.TODO
    )
    for i in range(COLUMN_CARDS + 4):
        task_create(
            actor=planner,
            key="OPS",
            title=f"Todo {i}",
            milestone=milestone,
            status=TaskStatus.TODO,
            depends_on=[first] if i == 0 else (),
        )
    in_todo = Task.objects.filter(milestone=milestone, status=TaskStatus.TODO).count()
    assert in_todo > COLUMN_CARDS  # OPS-002 waits on OPS-001, so it sits in Blocked
    login(page, planner)

    page.goto(f"/roadmap/?milestone={milestone.pk}")
    todo = page.locator('.kanban-list[data-status="todo"] .task-card')
    expect(todo).to_have_count(COLUMN_CARDS)
    page.locator("#more-todo button").click()
    expect(todo).to_have_count(in_todo)
    expect(page.locator("#more-todo button")).to_have_count(0)

    # OPS-002 depends on OPS-001: making OPS-001 depend on OPS-002 is a cycle.
    page.goto(f"/roadmap/tasks/{first.code}/")
    page.fill("#edit-title", "Base, renamed")
    page.fill("#edit-depends", "OPS-002")
    page.click("#task-edit button[type=submit]")
    expect(page.locator("#error-depends_on")).to_contain_text("OPS-001 → OPS-002 → OPS-001")
    expect(page.locator("#edit-title")).to_have_value("Base, renamed")

    page.fill("#edit-depends", "")
    page.select_option("#edit-priority", "1")
    page.click("#task-edit button[type=submit]")
    expect(page.locator("h1")).to_contain_text("Base, renamed")
    expect(page.locator(".flash")).to_contain_text("OPS-001 saved")
    assert Task.objects.get(code="OPS-001").priority == 1
    assert page.js_errors == []
