"""Meetings API views: validate input → call a service → serialize the result."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib.auth import get_user_model
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from rest_framework import permissions, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from community.roadmap.models import Milestone
from governance.meetings import exchange, selectors, services
from governance.meetings.api import serializers as s
from governance.meetings.models import AgendaItem, AgendaTemplate, Amendment, Meeting
from governance.models import Poll, Proposal
from portal.api.errors import DomainError
from portal.api.pagination import Pagination


def _user(username: str, field: str) -> Any:
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise DomainError(
            f"{field}: no user {username!r}",
            code="unknown_user",
            fields={field: [f"unknown user {username!r}"]},
        )
    return user


def _meeting(request: Request, pk: int) -> Meeting:
    return get_object_or_404(selectors.meetings_visible(user=request.user), pk=pk)


def _item(meeting: Meeting, item_id: int) -> AgendaItem:
    return get_object_or_404(
        AgendaItem.objects.select_related("meeting"), pk=item_id, meeting=meeting
    )


def _detail(request: Request, pk: int) -> dict[str, Any]:
    meeting = get_object_or_404(selectors.meetings_visible(user=request.user), pk=pk)
    meeting = selectors.meeting_detail(user=request.user, pk=meeting.pk)
    return s.meeting_full(
        meeting, selectors.action_items_for(meeting), services.meeting_quorum(meeting)
    )


def _date_param(request: Request, name: str) -> date | None:
    raw = request.query_params.get(name, "")
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise DomainError(
            f"{name}: {raw!r} is not a date (YYYY-MM-DD)", fields={name: ["YYYY-MM-DD"]}
        ) from None


class TemplateListView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    def get(self, request: Request) -> Response:
        services.agenda_templates_ensure()
        return Response(s.TemplateSerializer(AgendaTemplate.objects.all(), many=True).data)


class TemplateDetailView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    def get(self, request: Request, slug: str) -> Response:
        return Response(s.TemplateSerializer(get_object_or_404(AgendaTemplate, slug=slug)).data)

    def patch(self, request: Request, slug: str) -> Response:
        data = s.TemplateUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        template = services.agenda_template_update(
            actor=request.user,
            template=get_object_or_404(AgendaTemplate, slug=slug),
            **data.validated_data,
        )
        return Response(s.TemplateSerializer(template).data)


class SeriesListView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    def get(self, request: Request) -> Response:
        qs = selectors.series_visible(user=request.user)
        return Response(s.SeriesSerializer(qs, many=True).data)

    def post(self, request: Request) -> Response:
        data = s.SeriesInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        values["owners"] = [_user(u, "owners") for u in values.pop("owners", [])]
        values["default_attendees"] = [
            _user(u, "default_attendees") for u in values.pop("default_attendees", [])
        ]
        series = services.series_create(actor=request.user, **values)
        return Response(s.SeriesSerializer(series).data, status=status.HTTP_201_CREATED)


class SeriesDetailView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    def get(self, request: Request, pk: int) -> Response:
        series = get_object_or_404(selectors.series_visible(user=request.user), pk=pk)
        return Response(s.SeriesSerializer(series).data)


class MeetingListView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    def get(self, request: Request) -> Response:
        qs = selectors.meetings_filter(
            user=request.user,
            series=request.query_params.get("series", ""),
            upcoming=request.query_params.get("upcoming") in ("1", "true"),
        )
        paginator = Pagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response(s.MeetingSerializer(page, many=True).data)

    def post(self, request: Request) -> Response:
        data = s.MeetingInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        meeting = services.meeting_create_adhoc(actor=request.user, **data.validated_data)
        return Response(s.MeetingSerializer(meeting).data, status=status.HTTP_201_CREATED)


class MeetingDetailView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    def get(self, request: Request, pk: int) -> Response:
        return Response(_detail(request, pk))


class MeetingActionView(APIView):
    """POST start / end."""

    permission_classes = [permissions.IsAuthenticated]
    action_name = ""

    def post(self, request: Request, pk: int) -> Response:
        meeting = _meeting(request, pk)
        if self.action_name == "start":
            services.meeting_start(actor=request.user, meeting=meeting)
        else:
            services.meeting_end(actor=request.user, meeting=meeting)
        return Response(_detail(request, pk))


class AgendaItemListView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    def get(self, request: Request, pk: int) -> Response:
        meeting = _meeting(request, pk)
        items = meeting.agenda_items.select_related("presenter", "notes_updated_by")
        return Response(s.AgendaItemSerializer(items, many=True).data)

    def post(self, request: Request, pk: int) -> Response:
        meeting = _meeting(request, pk)
        data = s.AgendaItemInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        presenter = values.pop("presenter", "")
        proposal_id, poll_id = values.pop("proposal", None), values.pop("poll", None)
        item = services.agenda_item_add(
            actor=request.user,
            meeting=meeting,
            presenter=_user(presenter, "presenter") if presenter else None,
            proposal=_lookup(Proposal, proposal_id, "proposal"),
            poll=_lookup(Poll, poll_id, "poll"),
            **values,
        )
        return Response(s.AgendaItemSerializer(item).data, status=status.HTTP_201_CREATED)


def _lookup(model: Any, pk: int | None, field: str) -> Any:
    if pk is None:
        return None
    obj = model.objects.filter(pk=pk).first()
    if obj is None:
        raise DomainError(f"{field}: no {field} {pk}", fields={field: [f"unknown id {pk}"]})
    return obj


class AgendaOrderView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    def put(self, request: Request, pk: int) -> Response:
        data = s.OrderSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        items = services.agenda_reorder(
            actor=request.user, meeting=_meeting(request, pk), order=data.validated_data["order"]
        )
        return Response(s.AgendaItemSerializer(items, many=True).data)


class NoteView(APIView):
    """PUT the notes of an agenda item with the version they were edited from."""

    permission_classes = [permissions.IsAuthenticated]

    def put(self, request: Request, pk: int, item_id: int) -> Response:
        item = _item(_meeting(request, pk), item_id)
        data = s.NoteInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            saved = services.note_save(actor=request.user, item=item, **data.validated_data)
        except services.NoteConflict as exc:
            return Response(
                {
                    "error": {"code": exc.code, "message": exc.message, "fields": exc.fields},
                    "current": {
                        "text": exc.current_text,
                        "version": exc.current_version,
                        "updated_by": exc.updated_by,
                    },
                },
                status=status.HTTP_409_CONFLICT,
            )
        return Response(s.AgendaItemSerializer(saved).data)


class NoteEditingView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    def post(self, request: Request, pk: int, item_id: int) -> Response:
        services.note_editing(actor=request.user, item=_item(_meeting(request, pk), item_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class AttendanceView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    def post(self, request: Request, pk: int) -> Response:
        data = s.AttendanceInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        meeting = _meeting(request, pk)
        services.attendance_set(
            actor=request.user,
            meeting=meeting,
            user=_user(data.validated_data["user"], "user"),
            status=data.validated_data["status"],
        )
        quorum = services.meeting_quorum(meeting)
        return Response(
            {"present": quorum.present, "quorum": quorum.required, "quorum_met": quorum.met}
        )


class DecisionView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    def post(self, request: Request, pk: int) -> Response:
        data = s.DecisionInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        meeting = _meeting(request, pk)
        item_id = data.validated_data.get("agenda_item")
        decision = services.decision_record(
            actor=request.user,
            meeting=meeting,
            text=data.validated_data.get("text", ""),
            poll=_lookup(Poll, data.validated_data.get("poll"), "poll"),
            agenda_item=_item(meeting, item_id) if item_id else None,
        )
        return Response(
            {
                "id": decision.pk,
                "text": decision.text,
                "poll": decision.poll_id,
                "poll_result_text": decision.poll_result_text,
            },
            status=status.HTTP_201_CREATED,
        )


class ActionItemListView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    def get(self, request: Request, pk: int) -> Response:
        meeting = _meeting(request, pk)
        return Response(s.ActionItemSerializer(selectors.action_items_for(meeting), many=True).data)

    def post(self, request: Request, pk: int) -> Response:
        data = s.ActionItemInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        milestone = _lookup(Milestone, values.pop("milestone", None), "milestone")
        item = services.action_item_create(
            actor=request.user,
            meeting=_meeting(request, pk),
            assignee=_user(values.pop("assignee"), "assignee"),
            milestone=milestone,
            **values,
        )
        return Response(s.ActionItemSerializer(item).data, status=status.HTTP_201_CREATED)


class MinutesView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    def get(self, request: Request, pk: int) -> HttpResponse:
        meeting = _meeting(request, pk)
        return HttpResponse(
            exchange.meeting_export_markdown(meeting), content_type="text/markdown; charset=utf-8"
        )

    def post(self, request: Request, pk: int) -> Response:
        data = s.MinutesActionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        meeting = _meeting(request, pk)
        action = {
            "submit": services.minutes_submit,
            "approve": services.minutes_approve,
            "publish": services.minutes_publish,
        }[data.validated_data["action"]]
        meeting = action(actor=request.user, meeting=meeting)
        return Response(s.MeetingSerializer(meeting).data)


class AmendmentListView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    def post(self, request: Request, pk: int) -> Response:
        data = s.AmendmentInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        meeting = _meeting(request, pk)
        amendment = services.amendment_propose(
            actor=request.user,
            meeting=meeting,
            item=_item(meeting, data.validated_data["item"]),
            text=data.validated_data["text"],
            reason=data.validated_data.get("reason", ""),
        )
        return Response(
            {"id": amendment.pk, "status": amendment.status}, status=status.HTTP_201_CREATED
        )


class AmendmentDecisionView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    def post(self, request: Request, pk: int, amendment_id: int) -> Response:
        data = s.AmendmentDecisionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        amendment = get_object_or_404(Amendment, pk=amendment_id, meeting=_meeting(request, pk))
        amendment = services.amendment_decide(
            actor=request.user, amendment=amendment, accept=data.validated_data["accept"]
        )
        return Response({"id": amendment.pk, "status": amendment.status})


class NotesExportView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    def get(self, request: Request) -> StreamingHttpResponse:
        series_id = request.query_params.get("series", "")
        series = None
        if series_id:
            series = get_object_or_404(
                selectors.series_visible(user=request.user),
                pk=int(series_id) if series_id.isdigit() else 0,
            )
        meetings = exchange.meetings_for_export(
            series=series, start=_date_param(request, "from"), end=_date_param(request, "to")
        )
        lines = (line + "\n" for line in exchange.notes_export(meetings))
        return StreamingHttpResponse(lines, content_type="application/x-ndjson")


class NotesImportView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    def post(self, request: Request) -> Response:
        try:
            text = request.body.decode("utf-8")
        except UnicodeDecodeError:
            raise DomainError("body: not UTF-8", fields={"body": ["UTF-8"]}) from None
        skip = request.query_params.get("skip_bad_lines", "") in ("1", "true")
        report = exchange.notes_import(
            actor=request.user, lines=text.splitlines(), skip_bad_lines=skip
        )
        return Response(report.as_dict())
