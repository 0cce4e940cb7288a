"""JSON Lines import/export of tasks, one task per line.

Fields: ``id`` (``OPS-001``), ``title``, ``status``, ``owner`` (username), ``estimate_days``,
``milestone`` (name), ``depends_on`` (ids), ``labels``, ``created``, ``updated``; optionally
``description`` and ``priority``. Import is idempotent by ``id`` and all-or-nothing unless
``skip_bad_lines`` is asked for; every rejected line is reported with its number and reason.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from community.roadmap.models import (
    TASK_CODE_RE,
    Milestone,
    Priority,
    ProjectCounter,
    Task,
    TaskDependency,
    TaskStatus,
)
from community.roadmap.services import (
    estimate_clean,
    labels_clean,
    parse_datetime,
    roadmap_may_plan,
)
from community.roadmap.topics import board_publish
from portal.api.errors import DomainError
from portal.audit import audit_record

MAX_LINES = 200_000
MAX_LINE_LENGTH = 100_000
_CHUNK = 2000


# --- export ------------------------------------------------------------------------------


def codes_by_id() -> dict[int, str]:
    """Every task's code by id. Dependencies are mapped through this in Python rather than
    joined twice to the task table: right after a bulk load the planner's statistics are
    stale and that join can degrade into a nested loop over sequential scans."""
    return dict(Task.objects.values_list("id", "code"))


def _iso(value: datetime) -> str:
    return value.astimezone(timezone.get_fixed_timezone(0)).isoformat().replace("+00:00", "Z")


def _estimate_out(value: Decimal | None) -> float | int | None:
    if value is None:
        return None
    normal = value.normalize()
    return int(normal) if normal == normal.to_integral_value() else float(normal)


def tasks_export(*, tasks: Any = None) -> Iterator[str]:
    """One JSON line per task (sorted by id), without the trailing newline."""
    qs = Task.objects.all() if tasks is None else tasks
    rows = list(
        qs.order_by("key", "number").values(
            "id",
            "code",
            "title",
            "status",
            "owner__username",
            "estimate_days",
            "milestone__name",
            "labels",
            "created_at",
            "updated_at",
        )
    )
    deps: dict[int, list[str]] = {}
    code_of = codes_by_id()
    edges = TaskDependency.objects.values_list("task_id", "depends_on_id")
    if tasks is not None:
        edges = edges.filter(task_id__in=qs.values("id"))
    for task_id, dep_id in edges:
        deps.setdefault(task_id, []).append(code_of[dep_id])
    for row in rows:
        yield json.dumps(
            {
                "id": row["code"],
                "title": row["title"],
                "status": row["status"],
                "owner": row["owner__username"],
                "estimate_days": _estimate_out(row["estimate_days"]),
                "milestone": row["milestone__name"],
                "depends_on": sorted(deps.get(row["id"], [])),
                "labels": list(row["labels"]),
                "created": _iso(row["created_at"]),
                "updated": _iso(row["updated_at"]),
            },
            ensure_ascii=False,
        )


# --- import ------------------------------------------------------------------------------


@dataclass
class LineError:
    line: int
    id: str
    reason: str


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[LineError] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": [{"line": e.line, "id": e.id, "reason": e.reason} for e in self.rejected],
        }


class ImportRejected(DomainError):
    """The whole import was refused; ``report.rejected`` names every bad line."""

    def __init__(self, report: ImportReport) -> None:
        first = report.rejected[0]
        more = len(report.rejected) - 1
        message = f"line {first.line}: {first.reason}" + (
            f" (and {more} more bad line{'s' if more > 1 else ''}; nothing was imported)"
            if more
            else " (nothing was imported)"
        )
        super().__init__(
            message,
            code="import_rejected",
            fields={f"line {e.line}": [e.reason] for e in report.rejected[:200]},
        )
        self.report = report


@dataclass
class _Row:
    line: int
    code: str
    key: str
    number: int
    title: str
    status: str
    owner: str | None
    estimate: Decimal | None
    milestone: str | None
    depends_on: list[str]
    labels: list[str]
    created: datetime | None
    updated: datetime | None
    description: str | None
    priority: int | None


def _text(obj: dict[str, Any], name: str, *, required: bool = False, limit: int = 200) -> Any:
    value = obj.get(name)
    if value is None:
        if required:
            raise ValueError(f"{name}: required")
        return None
    if not isinstance(value, str):
        raise ValueError(f"{name}: must be a string")
    value = value.strip()
    if required and not value:
        raise ValueError(f"{name}: required")
    if len(value) > limit:
        raise ValueError(f"{name}: longer than {limit} characters")
    return value


def _row_parse(number: int, raw: str) -> _Row:
    if len(raw) > MAX_LINE_LENGTH:
        raise ValueError(f"longer than {MAX_LINE_LENGTH} characters")
    try:
        obj = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(obj, dict):
        raise ValueError("not a JSON object")
    code = obj.get("id")
    match = TASK_CODE_RE.match(code.strip().upper()) if isinstance(code, str) else None
    if match is None:
        raise ValueError(f"id: {code!r} is not a task id like OPS-001")
    key, num = match.group(1), int(match.group(2))
    if num < 1:
        raise ValueError("id: numbers start at 1")
    status = obj.get("status", TaskStatus.BACKLOG)
    if status not in TaskStatus.values:
        raise ValueError(f"status: {status!r} is not one of {', '.join(TaskStatus.values)}")
    deps = obj.get("depends_on") or []
    if not isinstance(deps, list) or not all(isinstance(d, str) for d in deps):
        raise ValueError("depends_on: must be a list of task ids")
    dep_codes = []
    for dep in deps:
        dep_match = TASK_CODE_RE.match(dep.strip().upper())
        if dep_match is None:
            raise ValueError(f"depends_on: {dep!r} is not a task id")
        dep_codes.append(Task.code_for(dep_match.group(1), int(dep_match.group(2))))
    try:
        labels = labels_clean(obj.get("labels") or [])
        estimate_raw = obj.get("estimate_days")
        if isinstance(estimate_raw, bool):
            raise DomainError("estimate_days: must be a number")
        estimate = estimate_clean(estimate_raw)
        created = parse_datetime(obj["created"], "created") if obj.get("created") else None
        updated = parse_datetime(obj["updated"], "updated") if obj.get("updated") else None
    except DomainError as exc:
        raise ValueError(exc.message) from None
    priority = obj.get("priority")
    if priority is not None and priority not in Priority.values:
        raise ValueError("priority: 1 (urgent) to 4 (low)")
    owner = obj.get("owner")
    if owner is not None and not isinstance(owner, str):
        raise ValueError("owner: must be a username")
    code_norm = Task.code_for(key, num)
    if code_norm in dep_codes:
        raise ValueError(f"depends_on: {code_norm} cannot depend on itself")
    return _Row(
        line=number,
        code=code_norm,
        key=key,
        number=num,
        title=_text(obj, "title", required=True),
        status=status,
        owner=owner.strip() or None if owner else None,
        estimate=estimate,
        milestone=_text(obj, "milestone", limit=120) or None,
        depends_on=sorted(set(dep_codes)),
        labels=labels,
        created=created,
        updated=updated,
        description=_text(obj, "description", limit=20000),
        priority=priority,
    )


def _cycles(rows: dict[str, _Row], db_edges: dict[str, set[str]]) -> dict[str, str]:
    """Codes of rows on a dependency cycle → the cycle, e.g. ``A → B → A``."""
    edges = dict(db_edges)
    for code, row in rows.items():
        edges[code] = set(row.depends_on)
    state: dict[str, int] = {}  # 1 = on the stack, 2 = finished
    found: dict[str, str] = {}
    for root in rows:
        if state.get(root):
            continue
        stack: list[tuple[str, Iterator[str]]] = [(root, iter(sorted(edges.get(root, ()))))]
        path = [root]
        state[root] = 1
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                state[node] = 2
                stack.pop()
                path.pop()
                continue
            if state.get(child) == 1:
                cycle = [*path[path.index(child) :], child]
                text = " → ".join(cycle)
                for member in cycle:
                    if member in rows:
                        found.setdefault(member, text)
            elif not state.get(child):
                state[child] = 1
                path.append(child)
                stack.append((child, iter(sorted(edges.get(child, ())))))
    return found


def _chunks(items: list[Any]) -> Iterator[list[Any]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def tasks_import(
    *,
    actor: Any,
    lines: Iterable[str],
    skip_bad_lines: bool = False,
    check_permission: bool = True,
) -> ImportReport:
    """Create or update tasks from JSON Lines (idempotent by ``id``)."""
    if check_permission and not roadmap_may_plan(actor):
        raise DomainError(
            "only maintainers and stewards import tasks", code="not_allowed", status_code=403
        )
    report = ImportReport()
    rows: dict[str, _Row] = {}
    for number, raw in enumerate(lines, start=1):
        if number > MAX_LINES:
            raise DomainError(f"more than {MAX_LINES} lines: split the file", code="too_large")
        if not raw.strip():
            continue
        try:
            row = _row_parse(number, raw)
        except ValueError as exc:
            report.rejected.append(LineError(number, "", str(exc)))
            continue
        if row.code in rows:
            report.rejected.append(
                LineError(number, row.code, f"id: {row.code} already on line {rows[row.code].line}")
            )
            continue
        rows[row.code] = row

    def reject(code: str, reason: str) -> None:
        row = rows.pop(code)
        report.rejected.append(LineError(row.line, code, reason))

    # Owners, in one query.
    names = {r.owner for r in rows.values() if r.owner}
    users = get_user_model().objects.filter(username__in=names).values_list("username", "pk")
    owner_ids = dict(users)
    for code, row in list(rows.items()):
        if row.owner and row.owner not in owner_ids:
            reject(code, f"owner: no user {row.owner!r}")

    # Dependencies must exist in the file or the database, and form no cycle.
    wanted = {d for r in rows.values() for d in r.depends_on} - set(rows)
    in_db: set[str] = set()
    for chunk in _chunks(sorted(wanted)):
        in_db.update(Task.objects.filter(code__in=chunk).values_list("code", flat=True))
    db_edges: dict[str, set[str]] = {}
    code_of = codes_by_id()
    for task_id, dep_id in TaskDependency.objects.values_list("task_id", "depends_on_id"):
        db_edges.setdefault(code_of[task_id], set()).add(code_of[dep_id])
    for code, cycle in _cycles(rows, db_edges).items():
        if code in rows:
            reject(code, f"depends_on: dependency cycle {cycle}")
    rejected_codes = {e.id for e in report.rejected if e.id}
    changed = True
    while changed:  # a line depending on a rejected line is rejected too
        changed = False
        for code, row in list(rows.items()):
            for dep in row.depends_on:
                if dep in rows or dep in in_db:
                    continue
                reason = (
                    f"depends_on: {dep} was rejected"
                    if dep in rejected_codes
                    else f"depends_on: unknown task {dep}"
                )
                reject(code, reason)
                rejected_codes.add(code)
                changed = True
                break
    report.rejected.sort(key=lambda e: e.line)
    if report.rejected and not skip_bad_lines:
        raise ImportRejected(report)
    if rows:
        _write(rows, owner_ids, report, actor)
    return report


_COMPARED = ("title", "status", "owner_id", "estimate_days", "milestone_id", "labels")


@transaction.atomic
def _write(
    rows: dict[str, _Row], owner_ids: dict[str, int], report: ImportReport, actor: Any
) -> None:
    now = timezone.now()
    names = {r.milestone for r in rows.values() if r.milestone}
    milestones = dict(Milestone.objects.filter(name__in=names).values_list("name", "pk"))
    missing = sorted(names - set(milestones))
    if missing:
        Milestone.objects.bulk_create([Milestone(name=n) for n in missing], ignore_conflicts=True)
        milestones = dict(Milestone.objects.filter(name__in=names).values_list("name", "pk"))
    existing: dict[str, Task] = {}
    for chunk in _chunks(sorted(rows)):
        for task in Task.objects.filter(code__in=chunk):
            existing[task.code] = task
    old_deps: dict[int, set[str]] = {}
    if existing:
        code_of = codes_by_id()
        ids = [t.pk for t in existing.values()]
        for chunk in _chunks(ids):
            for task_id, dep_id in TaskDependency.objects.filter(task_id__in=chunk).values_list(
                "task_id", "depends_on_id"
            ):
                old_deps.setdefault(task_id, set()).add(code_of[dep_id])
    new_tasks: list[Task] = []
    updated: list[Task] = []
    update_fields = {"updated_at", *_COMPARED, "label_index", "done_at", "created_at"}
    for row in rows.values():
        values: dict[str, Any] = {
            "title": row.title,
            "status": row.status,
            "owner_id": owner_ids.get(row.owner) if row.owner else None,
            "estimate_days": row.estimate,
            "milestone_id": milestones.get(row.milestone) if row.milestone else None,
            "labels": row.labels,
        }
        if row.description is not None:
            values["description"] = row.description
            update_fields.add("description")
        if row.priority is not None:
            values["priority"] = row.priority
            update_fields.add("priority")
        found = existing.get(row.code)
        if found is None:
            created = row.created or now
            new_task = Task(
                key=row.key,
                number=row.number,
                code=row.code,
                label_index=Task.label_index_for(row.labels),
                created_at=created,
                updated_at=row.updated or created,
                done_at=(row.updated or created) if row.status == TaskStatus.DONE else None,
                **values,
            )
            new_tasks.append(new_task)
            continue
        task = found
        differs = any(getattr(task, k) != v for k, v in values.items())
        times_differ = (row.created is not None and row.created != task.created_at) or (
            row.updated is not None and row.updated != task.updated_at
        )
        deps_differ = old_deps.get(task.pk, set()) != set(row.depends_on)
        if not (differs or times_differ or deps_differ):
            report.unchanged += 1
            continue
        for name, value in values.items():
            setattr(task, name, value)
        task.label_index = Task.label_index_for(row.labels)
        if row.created is not None:
            task.created_at = row.created
        task.updated_at = row.updated or now
        if row.status == TaskStatus.DONE and task.done_at is None:
            task.done_at = task.updated_at
        elif row.status != TaskStatus.DONE:
            task.done_at = None
        updated.append(task)
    Task.objects.bulk_create(new_tasks, batch_size=_CHUNK)
    if updated:
        Task.objects.bulk_update(updated, sorted(update_fields), batch_size=500)
    report.created, report.updated = len(new_tasks), len(updated)

    # Dependencies of the lines whose set changed (new tasks: all of them).
    touched = {t.code for t in new_tasks} | {t.code for t in updated}
    pk_of = {code: t.pk for code, t in existing.items()}
    pk_of.update({t.code: t.pk for t in new_tasks})
    dep_targets = {d for code in touched for d in rows[code].depends_on} - set(pk_of)
    for chunk in _chunks(sorted(dep_targets)):
        pk_of.update(Task.objects.filter(code__in=chunk).values_list("code", "pk"))
    replace = [pk_of[c] for c in touched if c in existing]
    for chunk in _chunks(replace):
        TaskDependency.objects.filter(task_id__in=chunk).delete()
    TaskDependency.objects.bulk_create(
        [
            TaskDependency(task_id=pk_of[code], depends_on_id=pk_of[dep])
            for code in sorted(touched)
            for dep in rows[code].depends_on
        ],
        batch_size=_CHUNK,
    )
    # Keep the per-key counters ahead of every imported number.
    highest: dict[str, int] = {}
    for row in rows.values():
        highest[row.key] = max(highest.get(row.key, 0), row.number)
    for key, number in highest.items():
        ProjectCounter.objects.bulk_create([ProjectCounter(key=key)], ignore_conflicts=True)
        ProjectCounter.objects.filter(key=key, last_number__lt=number).update(last_number=number)
    audit_record(
        actor=actor,
        action="roadmap.import",
        object_type="roadmap.task",
        detail={
            "created": report.created,
            "updated": report.updated,
            "unchanged": report.unchanged,
            "rejected": len(report.rejected),
        },
    )
    if touched:
        board_publish(boards=["all"], type="board.reload", data={"imported": len(touched)})
