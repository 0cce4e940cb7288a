"""The bridge from the roadmap to contributor rewards: a task done → a contribution.

The community app owns contributions: ``contribution_from_roadmap`` creates the pending
contribution once per task (idempotent by the task's code). Here we only translate a task
into its arguments: the contribution type from the task's labels, effort from the estimate.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from community.roadmap.models import Task

# Task estimates map onto the contribution effort scale.
_EFFORT_STEPS = ((Decimal(1), "small"), (Decimal(5), "medium"))


def effort_for(estimate_days: Decimal | None) -> str:
    if estimate_days is None:
        return "medium"
    for limit, effort in _EFFORT_STEPS:
        if estimate_days <= limit:
            return effort
    return "large"


def task_done_contribution(task: Task) -> Any:
    """Emit (once) a pending contribution for the owner of a task that reached done."""
    if task.owner_id is None:
        return None
    from django.conf import settings

    from community.services.contributions import contribution_from_roadmap

    return contribution_from_roadmap(
        user=task.owner,
        task_id=task.code,
        title=f"{task.code} {task.title}"[:200],
        type_slug=_type_of(task),
        link=f"{settings.SITE_URL.rstrip('/')}/roadmap/tasks/{task.code}/",
        description=task.description,
        effort=effort_for(task.estimate_days),
    )


_LABEL_TYPES = {
    "code": "code",
    "docs": "doc",
    "doc": "doc",
    "infra": "infra",
    "ops": "infra",
    "security": "security",
    "design": "design",
    "test": "test",
    "research": "research",
}


def _type_of(task: Task) -> str:
    for label in task.labels:
        if label in _LABEL_TYPES:
            return _LABEL_TYPES[label]
    return "projectManagement"
