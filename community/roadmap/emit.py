"""The bridge from the roadmap to contributor rewards: a task done → a contribution.

The community app owns contributions. When it offers
``community.services.contributions.contribution_from_roadmap_task(*, user, external_id,
title, link, effort)`` we call it; until then we create the same pending contribution
through its public building blocks (``contributor_for``, ``contribution_type_get``),
idempotently by ``external_id``.
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
    from community.services import contributions as community

    external_id = f"roadmap:{task.code}"
    title = f"{task.code} {task.title}"[:200]
    from django.conf import settings

    link = f"{settings.SITE_URL.rstrip('/')}/roadmap/tasks/{task.code}/"
    effort = effort_for(task.estimate_days)
    service = getattr(community, "contribution_from_roadmap_task", None)
    if service is not None:
        return service(
            user=task.owner, external_id=external_id, title=title, link=link, effort=effort
        )
    return _contribution_fallback(
        task, external_id=external_id, title=title, link=link, effort=effort
    )


def _contribution_fallback(
    task: Task, *, external_id: str, title: str, link: str, effort: str
) -> Any:
    from community.models import Contribution
    from community.models.contributions import ContributionSource
    from community.services.contributions import contribution_type_get, contributor_for
    from portal.audit import audit_record

    existing = Contribution.objects.filter(external_id=external_id).first()
    if existing is not None:
        return existing
    contribution = Contribution.objects.create(
        contributor=contributor_for(task.owner),
        type=contribution_type_get(_type_of(task)),
        title=title,
        description=task.description[:5000],
        link=link[:500],
        effort=effort,
        source=ContributionSource.ROADMAP,
        external_id=external_id,
    )
    audit_record(
        actor=None,
        action="contribution.roadmap",
        obj=contribution,
        detail={"task": task.code, "owner": task.owner_id},
    )
    return contribution


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
