"""Roadmap pages: board, timeline, milestone (progress + burndown), task."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from community.roadmap import cards, selectors, services
from community.roadmap.models import LABEL_RE, Milestone, Priority, Task, TaskStatus
from portal.api.errors import DomainError


@login_required
def board(request: HttpRequest) -> HttpResponse:
    milestone = None
    if request.GET.get("milestone", "").isdigit():
        milestone = get_object_or_404(Milestone, pk=int(request.GET["milestone"]))
    label = request.GET.get("label", "").strip().lower()
    data = selectors.board_get(milestone=milestone, label=label)
    template = "roadmap/_columns.html" if request.GET.get("partial") else "roadmap/board.html"
    return render(
        request,
        template,
        {
            "board": data,
            "milestones": Milestone.objects.all(),
            "columns": [s.value for s in selectors.BOARD_COLUMNS],
            "next_url": request.get_full_path().replace("&partial=1", ""),
            "may_plan": services.roadmap_may_plan(request.user),
        },
    )


@login_required
def board_column(request: HttpRequest) -> HttpResponse:
    """The next cards of one board column ("show more", fetched by htmx)."""
    status = request.GET.get("status", "")
    if status not in {s.value for s in selectors.BOARD_COLUMNS}:
        return HttpResponse("unknown column", status=400, content_type="text/plain")
    milestone = None
    if request.GET.get("milestone", "").isdigit():
        milestone = get_object_or_404(Milestone, pk=int(request.GET["milestone"]))
    label = request.GET.get("label", "").strip().lower()
    page = selectors.column_page(
        status=status,
        milestone=milestone,
        label=label,
        after=selectors.cursor_parse(request.GET.get("after", "")),
    )
    board_query = (
        f"milestone={milestone.pk}"
        if milestone
        else (f"label={label}" if LABEL_RE.match(label) else "")
    )
    return render(request, "roadmap/_column_page.html", {"page": page, "board_query": board_query})


@login_required
@require_POST
def task_move(request: HttpRequest, code: str) -> HttpResponse:
    task = get_object_or_404(Task, code=code.upper())
    status = request.POST.get("status", "")
    columns = [s.value for s in selectors.BOARD_COLUMNS]
    step = request.POST.get("step")
    if step in ("left", "right") and task.status in columns:
        index = columns.index(task.status) + (1 if step == "right" else -1)
        status = columns[max(0, min(index, len(columns) - 1))]
    try:
        moved = services.task_move(actor=request.user, task=task, status=status)
        if moved.warning:
            messages.warning(request, moved.warning)
    except DomainError as exc:
        messages.error(request, exc.message)
    back = request.POST.get("next", "")
    return redirect(back if back.startswith("/roadmap/") else "roadmap:board")


@login_required
def task_new(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        try:
            milestone_id = request.POST.get("milestone", "")
            task = services.task_create(
                actor=request.user,
                key=request.POST.get("key", ""),
                title=request.POST.get("title", ""),
                description=request.POST.get("description", ""),
                owner=request.POST.get("owner", "").strip() or None,
                estimate_days=request.POST.get("estimate_days", "").strip() or None,
                labels=[x for x in request.POST.get("labels", "").replace(",", " ").split() if x],
                status=request.POST.get("status", TaskStatus.BACKLOG),
                milestone=Milestone.objects.filter(pk=milestone_id).first()
                if milestone_id.isdigit()
                else None,
            )
            return redirect("roadmap:task", code=task.code)
        except DomainError as exc:
            messages.error(request, exc.message)
    return render(
        request,
        "roadmap/task_new.html",
        {
            "milestones": Milestone.objects.all(),
            "statuses": TaskStatus.choices,
            "form": request.POST,
        },
    )


def _task_page(
    request: HttpRequest,
    task: Task,
    *,
    form: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> HttpResponse:
    depends_on = list(task.depends_on.order_by("key", "number"))
    if form is None:
        form = {
            "title": task.title,
            "description": task.description,
            "owner": task.owner.username if task.owner else "",
            "estimate_days": cards.estimate_text(task.estimate_days),
            "priority": str(task.priority),
            "labels": " ".join(task.labels),
            "milestone": str(task.milestone_id or ""),
            "depends_on": " ".join(d.code for d in depends_on),
            "status": task.status,
        }
    return render(
        request,
        "roadmap/task.html",
        {
            "task": task,
            "depends_on": depends_on,
            "dependents": task.dependents.order_by("key", "number"),
            "action_item": getattr(task, "action_item", None),
            "statuses": [(s.value, s.label) for s in TaskStatus],
            "priorities": [(str(p.value), p.label) for p in Priority],
            "milestones": Milestone.objects.all(),
            "may_edit": services.task_may_edit(request.user, task),
            "form": form,
            "errors": errors or {},
        },
        status=status,
    )


def _task_get(code: str) -> Task:
    return get_object_or_404(
        Task.objects.select_related("owner", "milestone", "proposal"), code=code.upper()
    )


@login_required
def task_detail(request: HttpRequest, code: str) -> HttpResponse:
    return _task_page(request, _task_get(code))


# Form fields → the error keys services name in DomainError.fields.
EDIT_FIELDS = (
    "title",
    "description",
    "owner",
    "estimate_days",
    "priority",
    "labels",
    "milestone",
    "depends_on",
    "status",
)


@login_required
@require_POST
def task_edit(request: HttpRequest, code: str) -> HttpResponse:
    """The task page's edit form: every field at once; errors shown next to their field."""
    task = _task_get(code)
    if not services.task_may_edit(request.user, task):
        return HttpResponse(
            f"{task.code}: only its owner, maintainers and stewards may change it",
            status=403,
            content_type="text/plain",
        )
    form = {name: request.POST.get(name, "") for name in EDIT_FIELDS}
    errors: dict[str, str] = {}
    milestone = None
    if form["milestone"]:
        milestone = (
            Milestone.objects.filter(pk=form["milestone"]).first()
            if form["milestone"].isdigit()
            else None
        )
        if milestone is None:
            errors["milestone"] = "milestone: no such milestone"
    priority = int(form["priority"]) if form["priority"].isdigit() else None
    if priority not in Priority.values:
        errors["priority"] = "priority: choose one of the listed priorities"
    if not errors:
        try:
            result = services.task_edit(
                actor=request.user,
                task=task,
                details={
                    "title": form["title"],
                    "description": form["description"],
                    "owner": form["owner"].strip().lstrip("@") or None,
                    "estimate_days": form["estimate_days"].strip() or None,
                    "priority": priority,
                    "labels": [x for x in form["labels"].replace(",", " ").split() if x],
                    "milestone": milestone,
                },
                depends_on=[x for x in form["depends_on"].replace(",", " ").split() if x],
                status=form["status"] or task.status,
            )
        except DomainError as exc:
            if exc.status_code == 403:
                return HttpResponse(exc.message, status=403, content_type="text/plain")
            named = [f for f in (exc.fields or {}) if f in EDIT_FIELDS]
            for name in named or ["general"]:
                errors[name] = exc.message
        else:
            if result.warning:
                messages.warning(request, result.warning)
            messages.success(
                request,
                f"{task.code} saved" if result.changed else f"{task.code}: nothing changed",
            )
            return redirect("roadmap:task", code=task.code)
    return _task_page(request, _task_get(code), form=form, errors=errors, status=400)


@login_required
def timeline(request: HttpRequest) -> HttpResponse:
    milestone = None
    if request.GET.get("milestone", "").isdigit():
        milestone = get_object_or_404(Milestone, pk=int(request.GET["milestone"]))
    data = selectors.timeline(milestone=milestone)
    day_px = 14
    rows = []
    codes = {}
    for index, bar in enumerate(data["bars"]):
        x = (bar.start - data["start"]).days * day_px if data["bars"] else 0
        width = max(day_px, ((bar.end - bar.start).days + 1) * day_px)
        rows.append({"bar": bar, "x": x + 260, "y": index * 26 + 30, "width": width})
        if bar.code:
            codes[bar.code] = rows[-1]
    arrows = []
    for row in rows:
        for dep in row["bar"].depends_on:
            source = codes.get(dep)
            if source:
                arrows.append(
                    {
                        "x1": source["x"] + source["width"],
                        "y1": source["y"] + 9,
                        "x2": row["x"],
                        "y2": row["y"] + 9,
                    }
                )
    width = 260 + max(1, data["days"]) * day_px + 40
    return render(
        request,
        "roadmap/timeline.html",
        {
            "rows": rows,
            "arrows": arrows,
            "width": width,
            "height": len(rows) * 26 + 50,
            "start": data["start"],
            "milestones": Milestone.objects.all(),
            "milestone": milestone,
        },
    )


@login_required
def milestone_list(request: HttpRequest) -> HttpResponse:
    return render(request, "roadmap/milestones.html", {"progress": selectors.milestones_progress()})


@login_required
def milestone_detail(request: HttpRequest, pk: int) -> HttpResponse:
    milestone = get_object_or_404(Milestone, pk=pk)
    progress = next(p for p in selectors.milestones_progress() if p.milestone.pk == pk)
    return render(
        request,
        "roadmap/milestone.html",
        {
            "milestone": milestone,
            "progress": progress,
            "burndown": selectors.burndown(milestone=milestone),
            "tasks": selectors.tasks_filter(milestone=str(pk))[:500],
        },
    )
