"""Roadmap API views: validate input → call a service → serialize the result."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404
from rest_framework import permissions, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from community.roadmap import jsonl, selectors, services
from community.roadmap.api import serializers as s
from community.roadmap.models import Milestone, Task, WipLimit
from portal.api.errors import DomainError
from portal.api.pagination import Pagination


def _task(code: str) -> Task:
    return get_object_or_404(Task.objects.select_related("owner", "milestone"), code=code.upper())


def action_items_of(tasks: list[Task]) -> dict[int, int]:
    """Task id → action item id, in one query (the meetings app links tasks to actions)."""
    from django.apps import apps

    if not apps.is_installed("governance.meetings") or not tasks:
        return {}
    action_item = apps.get_model("meetings", "ActionItem")
    return dict(
        action_item.objects.filter(task__in=[t.pk for t in tasks]).values_list("task_id", "pk")
    )


class MilestoneListView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    def get(self, request: Request) -> Response:
        return Response(s.MilestoneSerializer(Milestone.objects.all(), many=True).data)

    def post(self, request: Request) -> Response:
        data = s.MilestoneInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        milestone = services.milestone_create(actor=request.user, **data.validated_data)
        return Response(s.MilestoneSerializer(milestone).data, status=status.HTTP_201_CREATED)


class MilestoneDetailView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    def get(self, request: Request, pk: int) -> Response:
        return Response(s.MilestoneSerializer(get_object_or_404(Milestone, pk=pk)).data)

    def patch(self, request: Request, pk: int) -> Response:
        data = s.MilestoneInputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        milestone = services.milestone_update(
            actor=request.user,
            milestone=get_object_or_404(Milestone, pk=pk),
            **data.validated_data,
        )
        return Response(s.MilestoneSerializer(milestone).data)


def _tasks_page(request: Request, qs: QuerySet[Task], view: APIView) -> Response:
    paginator = Pagination()
    page = paginator.paginate_queryset(qs, request, view=view) or []
    context = {"action_items": action_items_of(list(page))}
    return paginator.get_paginated_response(s.TaskSerializer(page, many=True, context=context).data)


class TaskListView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    def get(self, request: Request) -> Response:
        params = request.query_params
        qs = selectors.tasks_filter(
            status=params.get("status", ""),
            owner=params.get("owner", ""),
            milestone=params.get("milestone", ""),
            label=params.get("label", ""),
            search=params.get("search", ""),
        )
        return _tasks_page(request, qs, self)

    def post(self, request: Request) -> Response:
        data = s.TaskInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        values["depends_on"] = services.tasks_by_code(values.pop("depends_on", []))
        task = services.task_create(actor=request.user, **values)
        return Response(s.TaskSerializer(task).data, status=status.HTTP_201_CREATED)


class TaskDetailView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    def get(self, request: Request, code: str) -> Response:
        task = _task(code)
        return Response(
            s.TaskSerializer(task, context={"action_items": action_items_of([task])}).data
        )

    def patch(self, request: Request, code: str) -> Response:
        task = _task(code)
        data = s.TaskUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        new_status = values.pop("status", None)
        position = values.pop("position", None)
        depends_on = values.pop("depends_on", None)
        warning = ""
        if values:
            task = services.task_update(actor=request.user, task=task, **values)
        if depends_on is not None:
            task = services.task_dependencies_set(
                actor=request.user, task=task, depends_on=services.tasks_by_code(depends_on)
            )
        if new_status is not None or position is not None:
            moved = services.task_move(
                actor=request.user,
                task=task,
                status=new_status or task.status,
                position=position,
            )
            task, warning = moved.task, moved.warning
        body: dict[str, Any] = dict(s.TaskSerializer(_task(task.code)).data)
        body["wip_warning"] = warning
        return Response(body)


class TaskImportView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    def post(self, request: Request) -> Response:
        content_type = (request.content_type or "").split(";")[0].strip()
        raw: bytes
        if content_type in ("multipart/form-data", "application/x-www-form-urlencoded"):
            upload = request.FILES.get("file")
            if upload is None:
                raise DomainError("file: attach a JSON Lines file", fields={"file": ["required"]})
            raw = upload.read()
        elif content_type == "application/json":
            text_field = request.data.get("jsonl") if isinstance(request.data, dict) else None
            if not isinstance(text_field, str):
                raise DomainError("jsonl: the JSON Lines text", fields={"jsonl": ["required"]})
            raw = text_field.encode()
        else:  # application/x-ndjson, text/plain: the body is the file
            raw = request.body
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise DomainError(
                f"file: not UTF-8 (byte {exc.start})", code="invalid", fields={"file": ["UTF-8"]}
            ) from None
        skip = str(request.query_params.get("skip_bad_lines", "")).lower() in ("1", "true", "yes")
        try:
            report = jsonl.tasks_import(
                actor=request.user, lines=text.splitlines(), skip_bad_lines=skip
            )
        except jsonl.ImportRejected as exc:
            return Response(
                {
                    "error": {"code": exc.code, "message": exc.message, "fields": exc.fields},
                    "rejected": exc.report.as_dict()["rejected"],
                },
                status=status.HTTP_400_BAD_REQUEST,
            )
        return Response(report.as_dict())


class TaskExportView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    def get(self, request: Request) -> StreamingHttpResponse:
        params = request.query_params
        qs = None
        if any(params.get(k) for k in ("status", "owner", "milestone", "label")):
            qs = selectors.tasks_filter(
                status=params.get("status", ""),
                owner=params.get("owner", ""),
                milestone=params.get("milestone", ""),
                label=params.get("label", ""),
            )
        lines = (line + "\n" for line in jsonl.tasks_export(tasks=qs))
        response = StreamingHttpResponse(lines, content_type="application/x-ndjson")
        response["Content-Disposition"] = 'attachment; filename="roadmap.jsonl"'
        return response


class WipLimitView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    def get(self, request: Request) -> Response:
        return Response(
            [
                {"status": w.status, "limit": w.limit, "enforce": w.enforce}
                for w in WipLimit.objects.order_by("status")
            ]
        )

    def post(self, request: Request) -> Response:
        data = s.WipLimitSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.wip_limit_set(actor=request.user, **data.validated_data)
        return self.get(request)
