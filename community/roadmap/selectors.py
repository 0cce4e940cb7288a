"""Roadmap reads: filtered task lists, boards, milestone progress, timeline, burndown."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import Count, F, Prefetch, Q, QuerySet, Window
from django.db.models.functions import RowNumber
from django.utils import timezone
from django.utils.safestring import SafeString

from community.roadmap.cards import CARD_COLUMNS, Card, cards_html
from community.roadmap.models import (
    LABEL_RE,
    Milestone,
    Task,
    TaskDependency,
    TaskStatus,
    WipLimit,
)

BOARD_COLUMNS = [s for s in TaskStatus if s != TaskStatus.CANCELLED]


def tasks_filter(
    *,
    status: str = "",
    owner: str = "",
    milestone: str = "",
    label: str = "",
    search: str = "",
) -> QuerySet[Task]:
    """Tasks with owner, milestone and dependency ids loaded in a constant number of queries."""
    qs = Task.objects.select_related("owner", "milestone").prefetch_related(
        Prefetch("depends_on", queryset=Task.objects.only("id", "code", "status"))
    )
    if status:
        qs = qs.filter(status__in=[s for s in status.split(",") if s])
    if owner:
        qs = (
            qs.filter(owner__username=owner)
            if not owner.isdigit()
            else qs.filter(owner_id=int(owner))
        )
    if milestone:
        if milestone == "none":
            qs = qs.filter(milestone__isnull=True)
        elif milestone.isdigit():
            qs = qs.filter(milestone_id=int(milestone))
        else:
            qs = qs.filter(milestone__name=milestone)
    if label:
        qs = qs.filter(label_index__contains=f"|{label.lower()}|")
    if search:
        qs = qs.filter(title__icontains=search)
    return qs.order_by("key", "number")


class _CardList:
    """A run of cards as rendered, and the cursor that continues after it."""

    tasks: list[Card]

    @property
    def cards(self) -> SafeString:
        return cards_html(self.tasks)

    @property
    def after(self) -> str:
        """The cursor of the last card shown, for the "show more" request."""
        return card_cursor(self.tasks[-1]) if self.tasks else ""


@dataclass
class Column(_CardList):
    status: str
    label: str
    tasks: list[Card] = field(default_factory=list)
    limit: int | None = None
    enforce: bool = False
    count: int = 0

    @property
    def hidden(self) -> int:
        return self.count - len(self.tasks)

    @property
    def over_limit(self) -> bool:
        return self.limit is not None and self.count > self.limit

    @property
    def at_limit(self) -> bool:
        return self.limit is not None and self.count >= self.limit


@dataclass
class Board:
    board_id: str
    title: str
    columns: list[Column]
    milestone: Milestone | None = None
    label: str = ""

    @property
    def query(self) -> str:
        """The board's own filter as a query string (for "show more" requests)."""
        if self.milestone is not None:
            return f"milestone={self.milestone.pk}"
        return f"label={self.label}" if self.label else ""


# A column shows its first cards; "show more" fetches the next ones, page by page.
COLUMN_CARDS = 25
# Cards are ordered by (position, key, number); the cursor is the last card's triple.
CARD_ORDER = ("position", "key", "number")


def card_cursor(task: Card) -> str:
    return f"{task.position}.{task.key}.{task.number}"


def _board_tasks(*, milestone: Milestone | None, label: str) -> tuple[QuerySet[Task], str, str]:
    qs = Task.objects.exclude(status=TaskStatus.CANCELLED)
    if milestone is not None:
        return qs.filter(milestone=milestone), f"m{milestone.pk}", milestone.name
    if label and LABEL_RE.match(label):
        return qs.filter(label_index__contains=f"|{label}|"), f"l-{label}", f"Label: {label}"
    return qs, "all", "All tasks"


def _cards(qs: QuerySet[Task]) -> Any:
    return qs.values_list(*CARD_COLUMNS, named=False)


def _first_cards(qs: QuerySet[Task], *, statuses: list[str], per_column: int) -> list[Card]:
    """The first cards of every column in one query, as plain rows (no model instances)."""
    cards = _cards(qs)
    if connection.features.supports_slicing_ordering_in_compound:
        # A UNION ALL of one short index range scan per column (milestone, status,
        # position): ~25 rows read per column, however long the column is.
        per_status = [cards.filter(status=s).order_by(*CARD_ORDER)[:per_column] for s in statuses]
        return [Card(*row) for row in per_status[0].union(*per_status[1:], all=True)]
    # SQLite cannot limit the parts of a compound query: number the rows per column.
    ranked = qs.annotate(
        row=Window(
            RowNumber(),
            partition_by=[F("status")],
            order_by=[F(name).asc() for name in CARD_ORDER],
        )
    ).filter(row__lte=per_column)
    return [Card(*row) for row in _cards(ranked.order_by("status", "row"))]


def board_get(
    *, milestone: Milestone | None = None, label: str = "", per_column: int = COLUMN_CARDS
) -> Board:
    """A kanban board of the whole roadmap, one milestone or one label, in three queries
    (limits, column sizes, the first cards of each column) whatever the number of tasks."""
    qs, board_id, title = _board_tasks(milestone=milestone, label=label)
    limits = {w.status: w for w in WipLimit.objects.all()}
    columns = {s.value: Column(status=s.value, label=s.label) for s in BOARD_COLUMNS}
    for status, column in columns.items():
        if status in limits:
            column.limit, column.enforce = limits[status].limit, limits[status].enforce
    for status, count in qs.order_by().values_list("status").annotate(n=Count("id")):
        if status in columns:
            columns[status].count = count
    for task in _first_cards(qs, statuses=list(columns), per_column=per_column):
        if task.status in columns:
            columns[task.status].tasks.append(task)
    return Board(
        board_id=board_id,
        title=title,
        columns=list(columns.values()),
        milestone=milestone,
        label=label if board_id.startswith("l-") else "",
    )


@dataclass
class ColumnPage(_CardList):
    status: str
    tasks: list[Card]
    remaining: int


def cursor_parse(after: str) -> tuple[int, str, int] | None:
    """``"12.OPS.7"`` → ``(12, "OPS", 7)``; anything else → ``None``."""
    parts = after.split(".")
    if len(parts) != 3:
        return None
    position, key, number = parts
    if not (position.lstrip("-").isdigit() and number.isdigit() and key.isalnum()):
        return None
    return int(position), key, int(number)


def column_page(
    *,
    status: str,
    milestone: Milestone | None = None,
    label: str = "",
    after: tuple[int, str, int] | None = None,
    per_column: int = COLUMN_CARDS,
) -> ColumnPage:
    """The next cards of one column after the cursor (keyset paging: no card is shown
    twice or skipped when cards above it move meanwhile), and how many remain after them."""
    qs, _, _ = _board_tasks(milestone=milestone, label=label)
    qs = qs.filter(status=status)
    if after is not None:
        position, key, number = after
        qs = qs.filter(
            Q(position__gt=position)
            | Q(position=position, key__gt=key)
            | Q(position=position, key=key, number__gt=number)
        )
    tasks = [Card(*row) for row in _cards(qs.order_by(*CARD_ORDER))[:per_column]]
    remaining = qs.count() - len(tasks) if len(tasks) == per_column else 0
    return ColumnPage(status=status, tasks=tasks, remaining=remaining)


@dataclass
class Progress:
    milestone: Milestone
    total_days: Decimal
    done_days: Decimal
    tasks: int
    done_tasks: int

    @property
    def percent(self) -> int:
        if self.total_days:
            return int(self.done_days * 100 / self.total_days)
        return int(self.done_tasks * 100 / self.tasks) if self.tasks else 0


# Tasks without an estimate count as one day so that they still move the bar.
DEFAULT_WEIGHT = Decimal(1)


def milestones_progress() -> list[Progress]:
    """Progress per milestone weighted by estimate (cancelled tasks left out)."""
    stats: dict[int, list[Any]] = defaultdict(lambda: [Decimal(0), Decimal(0), 0, 0])
    for mid, status, estimate in (
        Task.objects.exclude(status=TaskStatus.CANCELLED)
        .exclude(milestone__isnull=True)
        .values_list("milestone_id", "status", "estimate_days")
    ):
        weight = estimate if estimate is not None else DEFAULT_WEIGHT
        entry = stats[mid]
        entry[0] += weight
        entry[2] += 1
        if status == TaskStatus.DONE:
            entry[1] += weight
            entry[3] += 1
    return [
        Progress(m, *stats[m.pk]) if m.pk in stats else Progress(m, Decimal(0), Decimal(0), 0, 0)
        for m in Milestone.objects.all()
    ]


def burndown(*, milestone: Milestone) -> dict[str, Any]:
    """Remaining estimated days per day from the milestone's start to its target (or today),
    and the ideal line."""
    tasks = list(
        Task.objects.filter(milestone=milestone)
        .exclude(status=TaskStatus.CANCELLED)
        .values_list("estimate_days", "created_at", "done_at")
    )
    today = timezone.localdate()
    start = milestone.start_date or (
        min((c.date() for _, c, _ in tasks), default=today) if tasks else today
    )
    end = milestone.target_date or max(today, start + timedelta(days=14))
    if (end - start).days > 366:
        end = start + timedelta(days=366)
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    total = sum(((e if e is not None else DEFAULT_WEIGHT) for e, _, _ in tasks), Decimal(0))
    remaining: list[float | None] = []
    for day in days:
        if day > today:
            remaining.append(None)
            continue
        left = sum(
            (
                (e if e is not None else DEFAULT_WEIGHT)
                for e, created, done in tasks
                if created.date() <= day and (done is None or done.date() > day)
            ),
            Decimal(0),
        )
        remaining.append(float(left))
    span = max(1, len(days) - 1)
    ideal = [round(float(total) * (1 - i / span), 2) for i in range(len(days))]
    return {
        "labels": [d.isoformat() for d in days],
        "remaining": remaining,
        "ideal": ideal,
        "total": float(total),
    }


@dataclass
class TimelineBar:
    label: str
    href: str
    start: date
    end: date
    kind: str
    status: str
    code: str = ""
    depends_on: list[str] = field(default_factory=list)


def timeline(*, milestone: Milestone | None = None, limit: int = 300) -> dict[str, Any]:
    """Bars for milestones and their tasks (start = created, end = due/done/estimate)."""
    bars: list[TimelineBar] = []
    milestones = [milestone] if milestone else list(Milestone.objects.all())
    today = timezone.localdate()
    for m in milestones:
        start = m.start_date or today
        bars.append(
            TimelineBar(
                label=m.name,
                href=f"/roadmap/milestones/{m.pk}/",
                start=start,
                end=max(start, m.target_date or start + timedelta(days=14)),
                kind="milestone",
                status=m.status,
            )
        )
    qs = Task.objects.exclude(status=TaskStatus.CANCELLED).order_by("milestone", "key", "number")
    if milestone:
        qs = qs.filter(milestone=milestone)
    tasks = list(qs[:limit])
    deps: dict[int, list[str]] = defaultdict(list)
    for task_id, code in TaskDependency.objects.filter(task__in=[t.pk for t in tasks]).values_list(
        "task_id", "depends_on__code"
    ):
        deps[task_id].append(code)
    for t in tasks:
        start = t.created_at.date()
        if t.done_at:
            end = t.done_at.date()
        elif t.due_date:
            end = t.due_date
        else:
            end = start + timedelta(days=max(1, int(t.estimate_days or 1)))
        bars.append(
            TimelineBar(
                label=f"{t.code} {t.title}",
                href=f"/roadmap/tasks/{t.code}/",
                start=start,
                end=max(start, end),
                kind="task",
                status=t.status,
                code=t.code,
                depends_on=sorted(deps.get(t.pk, [])),
            )
        )
    if not bars:
        return {"bars": [], "start": today, "days": 0}
    first = min(b.start for b in bars)
    last = max(b.end for b in bars)
    return {"bars": bars, "start": first, "end": last, "days": (last - first).days + 1}
