"""Roadmap writes: milestones, numbered tasks, moves with WIP limits, dependencies."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from community.roadmap.emit import task_done_contribution
from community.roadmap.models import (
    CLOSED_STATUSES,
    LABEL_RE,
    PROJECT_KEY_RE,
    STARTED_STATUSES,
    Milestone,
    MilestoneStatus,
    Priority,
    ProjectCounter,
    Task,
    TaskDependency,
    TaskStatus,
    WipLimit,
)
from community.roadmap.topics import TaskEvent, board_publish, boards_of
from portal.api.errors import DomainError
from portal.audit import audit_record

MAX_ESTIMATE_DAYS = Decimal("99999.99")


# --- permissions -------------------------------------------------------------------------


def roadmap_may_plan(user: Any) -> bool:
    """Maintainers and stewards plan the roadmap (create tasks and milestones)."""
    return bool(user and user.is_authenticated and user.has_role("maintainer"))


def task_may_edit(user: Any, task: Task) -> bool:
    """A task's owner, maintainers and stewards may edit and move it."""
    if not (user and user.is_authenticated):
        return False
    return task.owner_id == user.pk or user.has_role("maintainer")


def _require_planner(actor: Any) -> None:
    if not roadmap_may_plan(actor):
        raise DomainError(
            "only maintainers and stewards plan the roadmap", code="not_allowed", status_code=403
        )


def _require_editor(actor: Any, task: Task) -> None:
    if not task_may_edit(actor, task):
        raise DomainError(
            f"{task.code}: only its owner, maintainers and stewards may change it",
            code="not_allowed",
            status_code=403,
        )


# --- input cleaning (shared with the JSON Lines import) ---------------------------------


def labels_clean(labels: Iterable[Any] | None) -> list[str]:
    if labels is None:
        return []
    if isinstance(labels, str) or not isinstance(labels, Iterable):
        raise DomainError("labels: a list of labels", code="invalid", fields={"labels": ["list"]})
    out: list[str] = []
    for raw in labels:
        label = str(raw).strip().lower()
        if not LABEL_RE.match(label):
            raise DomainError(
                f"labels: {raw!r} is not a label (a-z, 0-9, - and _, up to 40 characters)",
                code="invalid",
                fields={"labels": [f"invalid label {raw!r}"]},
            )
        if label not in out:
            out.append(label)
    if len("|".join(out)) > 990:
        raise DomainError("labels: too many labels", code="invalid", fields={"labels": ["long"]})
    return sorted(out)


def estimate_clean(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        estimate = Decimal(str(value))
    except (InvalidOperation, ValueError):
        estimate = Decimal("NaN")
    if not estimate.is_finite() or estimate < 0 or estimate > MAX_ESTIMATE_DAYS:
        raise DomainError(
            f"estimate_days: {value!r} is not a number of days between 0 and 99999.99",
            code="invalid",
            fields={"estimate_days": ["a number of days ≥ 0"]},
        )
    return estimate.quantize(Decimal("0.01"))


def key_clean(key: Any) -> str:
    key = str(key or "").strip().upper()
    if not PROJECT_KEY_RE.match(key):
        raise DomainError(
            f"key: {key!r} is not a project key (2-10 capitals and digits, e.g. OPS)",
            code="invalid",
            fields={"key": ["2-10 capitals and digits, starting with a letter"]},
        )
    return key


def status_clean(status: Any) -> str:
    if status not in TaskStatus.values:
        raise DomainError(
            f"status: {status!r} is not one of {', '.join(TaskStatus.values)}",
            code="invalid",
            fields={"status": [f"one of {', '.join(TaskStatus.values)}"]},
        )
    return str(status)


def owner_resolve(owner: Any) -> Any:
    """A user, a user id, a username or an email; ``None``/"" for no owner."""
    if owner in (None, ""):
        return None
    user_model = get_user_model()
    if isinstance(owner, user_model):
        return owner
    text = str(owner).strip()
    found = None
    if isinstance(owner, int) or text.isdigit():
        found = user_model.objects.filter(pk=int(text)).first()
    if found is None:
        lookup = {"email__iexact": text} if "@" in text else {"username": text}
        found = user_model.objects.filter(**lookup).first()
    if found is None:
        raise DomainError(
            f"owner: no user {text!r}",
            code="unknown_owner",
            fields={"owner": [f"unknown {text!r}"]},
        )
    return found


# --- milestones --------------------------------------------------------------------------


def _dates_check(start: date | None, target: date | None) -> None:
    if start and target and target < start:
        raise DomainError(
            "target_date: before the start date",
            code="invalid",
            fields={"target_date": ["on or after start_date"]},
        )


@transaction.atomic
def milestone_create(
    *,
    actor: Any,
    name: str,
    description: str = "",
    start_date: date | None = None,
    target_date: date | None = None,
    status: str = MilestoneStatus.PLANNED,
) -> Milestone:
    """A new roadmap phase (maintainers and stewards)."""
    _require_planner(actor)
    name = (name or "").strip()
    if not name:
        raise DomainError("name: required", code="invalid", fields={"name": ["required"]})
    if Milestone.objects.filter(name=name).exists():
        raise DomainError(
            f"name: a milestone {name!r} exists", code="duplicate", fields={"name": ["taken"]}
        )
    if status not in MilestoneStatus.values:
        raise DomainError("status: unknown", code="invalid", fields={"status": ["unknown"]})
    _dates_check(start_date, target_date)
    milestone = Milestone.objects.create(
        name=name[:120],
        description=description,
        start_date=start_date,
        target_date=target_date,
        status=status,
    )
    audit_record(actor=actor, action="roadmap.milestone.create", obj=milestone)
    return milestone


@transaction.atomic
def milestone_update(*, actor: Any, milestone: Milestone, **fields: Any) -> Milestone:
    _require_planner(actor)
    allowed = {"name", "description", "start_date", "target_date", "status"}
    unknown = set(fields) - allowed
    if unknown:
        raise DomainError(f"unknown fields: {', '.join(sorted(unknown))}", code="invalid")
    if "status" in fields and fields["status"] not in MilestoneStatus.values:
        raise DomainError("status: unknown", code="invalid", fields={"status": ["unknown"]})
    for name, value in fields.items():
        setattr(milestone, name, value)
    _dates_check(milestone.start_date, milestone.target_date)
    milestone.save()
    audit_record(
        actor=actor,
        action="roadmap.milestone.update",
        obj=milestone,
        detail={"fields": sorted(fields)},
    )
    return milestone


# --- tasks --------------------------------------------------------------------------------


def task_number_next(key: str) -> int:
    """The next number for ``key``. The UPDATE holds the counter row's lock until commit,
    so concurrent creators queue up instead of colliding."""
    ProjectCounter.objects.bulk_create([ProjectCounter(key=key)], ignore_conflicts=True)
    ProjectCounter.objects.filter(key=key).update(last_number=F("last_number") + 1)
    return ProjectCounter.objects.get(key=key).last_number


def task_event(task: Task, *, wip_warning: str = "") -> TaskEvent:
    return TaskEvent(
        code=task.code,
        title=task.title,
        status=task.status,
        position=task.position,
        owner=task.owner.username if task.owner_id and task.owner else "",
        milestone=task.milestone_id,
        labels=list(task.labels),
        wip_warning=wip_warning,
    )


def _publish(
    task: Task,
    type: str,
    *,
    wip_warning: str = "",
    old_milestone: int | None = None,
    old_labels: list[str] | None = None,
) -> None:
    boards = boards_of(milestone_id=task.milestone_id, labels=task.labels)
    boards += boards_of(milestone_id=old_milestone, labels=old_labels or [])
    board_publish(boards=boards, type=type, data=task_event(task, wip_warning=wip_warning))


@transaction.atomic
def task_create(
    *,
    actor: Any,
    key: str,
    title: str,
    description: str = "",
    owner: Any = None,
    estimate_days: Any = None,
    priority: int = Priority.MEDIUM,
    labels: Iterable[str] | None = None,
    status: str = TaskStatus.BACKLOG,
    milestone: Milestone | None = None,
    depends_on: Iterable[Task] = (),
    proposal: Any = None,
    due_date: date | None = None,
    check_permission: bool = True,
) -> Task:
    """A new task numbered in sequence for its project key."""
    if check_permission:
        _require_planner(actor)
    key = key_clean(key)
    title = (title or "").strip()
    if not title:
        raise DomainError("title: required", code="invalid", fields={"title": ["required"]})
    if priority not in Priority.values:
        raise DomainError("priority: 1-4", code="invalid", fields={"priority": ["1 to 4"]})
    status = status_clean(status)
    now = timezone.now()
    number = task_number_next(key)
    while Task.objects.filter(code=Task.code_for(key, number)).exists():
        number = task_number_next(key)
    clean_labels = labels_clean(labels)
    task = Task.objects.create(
        key=key,
        number=number,
        code=Task.code_for(key, number),
        title=title[:200],
        description=description or "",
        owner=owner_resolve(owner),
        estimate_days=estimate_clean(estimate_days),
        priority=priority,
        labels=clean_labels,
        label_index=Task.label_index_for(clean_labels),
        status=status,
        milestone=milestone,
        proposal=proposal,
        due_date=due_date,
        created_at=now,
        updated_at=now,
        done_at=now if status == TaskStatus.DONE else None,
    )
    deps = list(depends_on)
    if deps:
        _dependencies_write(task, deps)
        if task.status in STARTED_STATUSES and _open_dependencies(task):
            raise DomainError(
                f"status: {task.code} is blocked by {', '.join(_open_dependencies(task))}",
                code="blocked",
                fields={"status": ["dependencies are not done"]},
            )
        if task.status == TaskStatus.TODO and _open_dependencies(task):
            task.status = TaskStatus.BLOCKED
            task.save(update_fields=["status"])
    audit_record(actor=actor, action="roadmap.task.create", obj=task, detail={"code": task.code})
    if task.status == TaskStatus.DONE:
        task_done_contribution(task)
    _publish(task, "task.created")
    return task


_EDITABLE = {
    "title",
    "description",
    "owner",
    "estimate_days",
    "priority",
    "labels",
    "milestone",
    "due_date",
    "proposal",
}


@transaction.atomic
def task_update(*, actor: Any, task: Task, **fields: Any) -> Task:
    """Change a task's details (status has its own service: ``task_move``)."""
    task = Task.objects.select_for_update().get(pk=task.pk)
    _require_editor(actor, task)
    unknown = set(fields) - _EDITABLE
    if unknown:
        raise DomainError(
            f"{', '.join(sorted(unknown))}: cannot be changed here",
            code="invalid",
            fields={name: ["not editable"] for name in sorted(unknown)},
        )
    old_milestone, old_labels = task.milestone_id, list(task.labels)
    if "title" in fields:
        title = (fields["title"] or "").strip()
        if not title:
            raise DomainError("title: required", code="invalid", fields={"title": ["required"]})
        task.title = title[:200]
    if "description" in fields:
        task.description = fields["description"] or ""
    if "owner" in fields:
        task.owner = owner_resolve(fields["owner"])
    if "estimate_days" in fields:
        task.estimate_days = estimate_clean(fields["estimate_days"])
    if "priority" in fields:
        if fields["priority"] not in Priority.values:
            raise DomainError("priority: 1-4", code="invalid", fields={"priority": ["1 to 4"]})
        task.priority = fields["priority"]
    if "labels" in fields:
        task.labels = labels_clean(fields["labels"])
        task.label_index = Task.label_index_for(task.labels)
    for name in ("milestone", "due_date", "proposal"):
        if name in fields:
            setattr(task, name, fields[name])
    task.updated_at = timezone.now()
    task.save()
    audit_record(
        actor=actor, action="roadmap.task.update", obj=task, detail={"fields": sorted(fields)}
    )
    _publish(task, "task.updated", old_milestone=old_milestone, old_labels=old_labels)
    return task


def _open_dependencies(task: Task) -> list[str]:
    return list(
        Task.objects.filter(dependents=task)
        .exclude(status=TaskStatus.DONE)
        .order_by("key", "number")
        .values_list("code", flat=True)
    )


def wip_check(*, task: Task, status: str) -> str:
    """ "" when the column has room; a warning when it is full (or a refusal if enforced)."""
    limit = WipLimit.objects.filter(status=status).first()
    if limit is None:
        return ""
    column = Task.objects.filter(status=status).exclude(pk=task.pk)
    if task.milestone_id:
        column = column.filter(milestone_id=task.milestone_id)
    count = column.count()
    if count + 1 <= limit.limit:
        return ""
    label = TaskStatus(status).label
    message = f"WIP limit: {label} holds at most {limit.limit} tasks (it has {count})"
    if limit.enforce:
        raise DomainError(message, code="wip_limit", status_code=409, fields={"status": [message]})
    return message


@dataclass(frozen=True)
class MoveResult:
    task: Task
    warning: str


def _column(status: str, milestone_id: int | None) -> QuerySet[Task]:
    qs = Task.objects.filter(status=status)
    if milestone_id is None:
        return qs.filter(milestone__isnull=True)
    return qs.filter(milestone_id=milestone_id)


def _column_place(task: Task, position: int) -> None:
    column = list(
        _column(task.status, task.milestone_id)
        .exclude(pk=task.pk)
        .order_by("position", "id")
        .only("id", "position")
    )
    position = max(0, min(position, len(column)))
    column.insert(position, task)
    changed = []
    for index, item in enumerate(column):
        if item.position != index:
            item.position = index
            changed.append(item)
    Task.objects.bulk_update([t for t in changed if t.pk != task.pk], ["position"])
    task.position = position


@transaction.atomic
def task_move(*, actor: Any, task: Task, status: str, position: int | None = None) -> MoveResult:
    """Move a task to a status column (and a place in it). Starting or finishing needs
    every dependency done; a full column warns, or refuses when a steward enforces it."""
    task = Task.objects.select_for_update(of=("self",)).select_related("owner").get(pk=task.pk)
    _require_editor(actor, task)
    status = status_clean(status)
    old_status = task.status
    warning = ""
    if status != old_status:
        if status in STARTED_STATUSES:
            blockers = _open_dependencies(task)
            if blockers:
                raise DomainError(
                    f"status: {task.code} is blocked by {', '.join(blockers)} (not done yet)",
                    code="blocked",
                    status_code=409,
                    fields={"status": [f"blocked by {', '.join(blockers)}"]},
                )
        warning = wip_check(task=task, status=status)
    now = timezone.now()
    task.status = status
    if status == TaskStatus.DONE and old_status != TaskStatus.DONE:
        task.done_at = now
    elif status != TaskStatus.DONE:
        task.done_at = None
    if position is not None:
        _column_place(task, position)
    elif status != old_status:
        last = (
            _column(status, task.milestone_id)
            .order_by("-position")
            .values_list("position", flat=True)
            .first()
        )
        task.position = (last or 0) + 1
    task.updated_at = now
    task.save(update_fields=["status", "done_at", "position", "updated_at"])
    audit_record(
        actor=actor,
        action="roadmap.task.move",
        obj=task,
        detail={"from": old_status, "to": status, "warning": warning},
    )
    if status == TaskStatus.DONE and old_status != TaskStatus.DONE:
        task_done_contribution(task)
        _dependents_unblock(task)
    _publish(task, "task.moved", wip_warning=warning)
    return MoveResult(task=task, warning=warning)


def _dependents_unblock(task: Task) -> None:
    """Blocked dependents whose last open dependency just finished go back to To do."""
    for dependent in Task.objects.filter(depends_on=task, status=TaskStatus.BLOCKED):
        if not _open_dependencies(dependent):
            dependent.status = TaskStatus.TODO
            dependent.updated_at = timezone.now()
            dependent.save(update_fields=["status", "updated_at"])
            _publish(dependent, "task.moved")


def dependency_graph() -> dict[int, set[int]]:
    graph: dict[int, set[int]] = {}
    for task_id, dep_id in TaskDependency.objects.values_list("task_id", "depends_on_id"):
        graph.setdefault(task_id, set()).add(dep_id)
    return graph


def cycle_find(graph: dict[Any, set[Any]], start: Any, target: Any) -> list[Any] | None:
    """A path start → … → target following dependency edges, or None."""
    parents: dict[Any, Any] = {start: None}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        if node == target:
            path = [node]
            while parents[path[-1]] is not None:
                path.append(parents[path[-1]])
            return list(reversed(path))
        for nxt in graph.get(node, ()):
            if nxt not in parents:
                parents[nxt] = node
                queue.append(nxt)
    return None


def _dependencies_write(task: Task, depends_on: list[Task]) -> None:
    graph = dependency_graph()
    graph[task.pk] = set()
    for dep in depends_on:
        if dep.pk == task.pk:
            raise DomainError(
                f"depends_on: {task.code} cannot depend on itself",
                code="cycle",
                fields={"depends_on": ["a task cannot depend on itself"]},
            )
        path = cycle_find(graph, dep.pk, task.pk)
        if path is not None:
            codes = dict(Task.objects.filter(pk__in=path).values_list("pk", "code"))
            chain = " → ".join([task.code, *(codes[p] for p in path)])
            raise DomainError(
                f"depends_on: a dependency cycle {chain}",
                code="cycle",
                fields={"depends_on": [f"cycle {chain}"]},
            )
        graph[task.pk].add(dep.pk)
    TaskDependency.objects.filter(task=task).delete()
    TaskDependency.objects.bulk_create(
        [TaskDependency(task=task, depends_on=dep) for dep in depends_on]
    )


@transaction.atomic
def task_dependencies_set(*, actor: Any, task: Task, depends_on: Iterable[Task]) -> Task:
    """Replace a task's dependencies; a cycle is refused naming the chain."""
    task = Task.objects.select_for_update().get(pk=task.pk)
    _require_editor(actor, task)
    deps = list(dict.fromkeys(depends_on))
    _dependencies_write(task, deps)
    blockers = _open_dependencies(task)
    if blockers and task.status in (TaskStatus.TODO, TaskStatus.IN_PROGRESS):
        task.status = TaskStatus.BLOCKED
    elif not blockers and task.status == TaskStatus.BLOCKED:
        task.status = TaskStatus.TODO
    task.updated_at = timezone.now()
    task.save(update_fields=["status", "updated_at"])
    audit_record(
        actor=actor,
        action="roadmap.task.dependencies",
        obj=task,
        detail={"depends_on": [d.code for d in deps]},
    )
    _publish(task, "task.updated")
    return task


@dataclass(frozen=True)
class EditResult:
    task: Task
    warning: str
    changed: list[str]


@transaction.atomic
def task_edit(
    *,
    actor: Any,
    task: Task,
    details: dict[str, Any],
    depends_on: Iterable[str] | None = None,
    status: str | None = None,
) -> EditResult:
    """Every field of a task in one go (the task page's edit form): details, dependencies
    and status, all or nothing. Each part goes through its own service, so the rules (a
    cycle named by its chain, the WIP limit, blocked starts) and the audit entries are the
    same as for separate changes; only the parts that differ are written."""
    task = Task.objects.select_related("owner", "milestone").get(pk=task.pk)
    _require_editor(actor, task)
    changed = {name: value for name, value in details.items() if _detail_differs(task, name, value)}
    # A new owner is written last: an owner handing the task over may still change the
    # rest in the same save.
    new_owner = {"owner": changed.pop("owner")} if "owner" in changed else {}
    # Compared with the status the form was showing, so that an unchanged status field
    # does not undo the "blocked" a new dependency just set.
    status_before = task.status
    names = list(changed)
    if changed:
        task = task_update(actor=actor, task=task, **changed)
    if depends_on is not None:
        deps = tasks_by_code(depends_on)
        current = set(
            TaskDependency.objects.filter(task=task).values_list("depends_on_id", flat=True)
        )
        if current != {d.pk for d in deps}:
            task = task_dependencies_set(actor=actor, task=task, depends_on=deps)
            names.append("depends_on")
    warning = ""
    if status is not None and status != status_before:
        moved = task_move(actor=actor, task=task, status=status)
        task, warning = moved.task, moved.warning
        names.append("status")
    if new_owner:
        task = task_update(actor=actor, task=task, **new_owner)
        names.append("owner")
    return EditResult(task=task, warning=warning, changed=names)


def _detail_differs(task: Task, name: str, value: Any) -> bool:
    if name == "owner":
        return owner_resolve(value) != task.owner
    if name == "estimate_days":
        return estimate_clean(value) != task.estimate_days
    if name == "labels":
        return labels_clean(value) != list(task.labels)
    if name == "title":
        return (value or "").strip()[:200] != task.title
    if name == "description":
        return (value or "") != task.description
    return bool(getattr(task, name) != value)


def tasks_by_code(codes: Iterable[str]) -> list[Task]:
    codes = list(dict.fromkeys(str(c).strip().upper() for c in codes))
    found = {t.code: t for t in Task.objects.filter(code__in=codes)}
    missing = [c for c in codes if c not in found]
    if missing:
        raise DomainError(
            f"depends_on: unknown task {', '.join(missing)}",
            code="unknown_task",
            fields={"depends_on": [f"unknown {c}" for c in missing]},
        )
    return [found[c] for c in codes]


@transaction.atomic
def wip_limit_set(*, actor: Any, status: str, limit: int | None, enforce: bool = False) -> None:
    """Stewards set (or with ``limit=None`` remove) a column's WIP limit."""
    if not (actor and actor.is_authenticated and actor.has_role("steward")):
        raise DomainError("only stewards set WIP limits", code="not_allowed", status_code=403)
    status = status_clean(status)
    if limit is None:
        WipLimit.objects.filter(status=status).delete()
    else:
        if limit < 1:
            raise DomainError("limit: at least 1", code="invalid", fields={"limit": ["≥ 1"]})
        WipLimit.objects.update_or_create(
            status=status,
            defaults={"limit": limit, "enforce": enforce, "updated_at": timezone.now()},
        )
    audit_record(
        actor=actor,
        action="roadmap.wip_limit",
        object_type="roadmap.wiplimit",
        object_id=status,
        detail={"limit": limit, "enforce": enforce},
    )


def parse_date(value: Any, field: str) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise DomainError(
            f"{field}: {value!r} is not a date (YYYY-MM-DD)",
            code="invalid",
            fields={field: ["YYYY-MM-DD"]},
        ) from None


def parse_datetime(value: Any, field: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise DomainError(
            f"{field}: {value!r} is not an ISO 8601 date-time",
            code="invalid",
            fields={field: ["ISO 8601 date-time"]},
        ) from None
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, timezone.get_fixed_timezone(0))
    return parsed


__all__ = [
    "CLOSED_STATUSES",
    "MoveResult",
    "milestone_create",
    "milestone_update",
    "task_create",
    "task_dependencies_set",
    "task_edit",
    "task_move",
    "task_update",
    "wip_limit_set",
]
