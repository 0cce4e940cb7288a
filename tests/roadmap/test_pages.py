"""Roadmap pages: board (with keyboard move), timeline, milestone progress, task page."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from community.roadmap.models import TaskStatus
from community.roadmap.selectors import milestones_progress
from community.roadmap.services import milestone_create, task_create, task_move

pytestmark = pytest.mark.django_db


def test_board_move_form_and_query_count_constant(client, maintainer):
    milestone = milestone_create(actor=maintainer, name="M1")
    client.force_login(maintainer)

    def render() -> tuple[str, int]:
        with CaptureQueriesContext(connection) as ctx:
            body = client.get(f"/roadmap/?milestone={milestone.pk}").content.decode()
        return body, len(ctx.captured_queries)

    for i in range(3):
        task_create(
            actor=maintainer, key="OPS", title=f"t{i}", milestone=milestone, status=TaskStatus.TODO
        )
    _, few = render()
    for i in range(25):
        task_create(
            actor=maintainer,
            key="OPS",
            title=f"u{i}",
            milestone=milestone,
            status=TaskStatus.IN_PROGRESS if i % 2 else TaskStatus.TODO,
        )
    body, many = render()
    assert many == few
    assert 'data-topic="board.m' in body and 'aria-label="Move OPS-001 right"' in body
    client.post("/roadmap/tasks/OPS-001/move/", {"step": "right"})  # To do → In progress
    assert "In progress" in client.get("/roadmap/tasks/OPS-001/").content.decode()
    client.post("/roadmap/tasks/OPS-001/move/", {"status": "done"})
    assert "Done" in client.get("/roadmap/tasks/OPS-001/").content.decode()


def test_progress_is_weighted_by_estimate(maintainer):
    milestone = milestone_create(actor=maintainer, name="M1")
    big = task_create(
        actor=maintainer, key="OPS", title="big", milestone=milestone, estimate_days=Decimal(3)
    )
    task_create(
        actor=maintainer, key="OPS", title="small", milestone=milestone, estimate_days=Decimal(1)
    )
    task_move(actor=maintainer, task=big, status=TaskStatus.DONE)
    progress = next(p for p in milestones_progress() if p.milestone == milestone)
    assert progress.percent == 75 and progress.done_tasks == 1


def test_timeline_milestone_and_task_pages(client, maintainer):
    milestone = milestone_create(actor=maintainer, name="M1")
    a = task_create(actor=maintainer, key="OPS", title="a", milestone=milestone)
    task_create(actor=maintainer, key="OPS", title="b", milestone=milestone, depends_on=[a])
    client.force_login(maintainer)
    timeline = client.get("/roadmap/timeline/").content.decode()
    assert "<svg" in timeline and 'class="tl-dep"' in timeline
    page = client.get(f"/roadmap/milestones/{milestone.pk}/").content.decode()
    assert 'id="burndown-data"' in page and "chart.umd.min.js" in page
    assert client.get("/roadmap/milestones/").status_code == 200
    task_page = client.get("/roadmap/tasks/OPS-002/").content.decode()
    assert "OPS-001" in task_page
    assert client.get("/roadmap/tasks/new/").status_code == 200
