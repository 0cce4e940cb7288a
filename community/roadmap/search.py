"""Roadmap tasks in the site search (``/search/`` and ``/api/v1/search/``)."""

from __future__ import annotations

import html
from typing import Any

from django.db.models import CharField, QuerySet, Value
from django.db.models.functions import Concat
from django.urls import reverse

from community.roadmap.models import TASK_CODE_RE, Task

# An exact key outranks any full-text match: whoever types OPS-001 wants that task.
EXACT_KEY_RANK = 100.0


def tasks_searchable(user: Any) -> QuerySet[Task]:
    """Tasks a searcher may find: the roadmap is open to signed-in members only. The
    heading (code and title) is searched and shown."""
    if not (user and user.is_authenticated):
        return Task.objects.none()
    return Task.objects.annotate(
        heading=Concat("code", Value(" "), "title", output_field=CharField())
    ).only("code", "title", "description", "updated_at")


def _task_url(task: Task) -> str:
    return reverse("roadmap:task", kwargs={"code": task.code})


def register_search_source() -> None:
    from directus.search import SearchHit, queryset_source, search_source_register

    by_text = queryset_source(
        kind="task",
        queryset=tasks_searchable,
        fields=("heading", "description"),
        url=_task_url,
    )

    def tasks_search(query: str, *, user: Any, language: str, limit: int) -> list[SearchHit]:
        if not (user and user.is_authenticated):
            return []  # the roadmap is for signed-in members
        # Full-text parsers split "OPS-001" into "ops" and "-001" (websearch even reads the
        # dash as NOT), so a task key is looked up exactly instead.
        if TASK_CODE_RE.match(query.strip().upper()):
            task = tasks_searchable(user).filter(code=query.strip().upper()).first()
            if task is None:
                return []
            return [
                SearchHit(
                    kind="task",
                    title=task.heading,  # type: ignore[attr-defined]
                    url=_task_url(task),
                    snippet=html.escape(task.description[:160]),
                    rank=EXACT_KEY_RANK,
                    updated=task.updated_at,
                )
            ]
        return by_text(query, user=user, language=language, limit=limit)

    search_source_register("tasks", tasks_search)
