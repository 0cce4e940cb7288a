"""Thin API views: validate → call a service or selector → serialize."""

from __future__ import annotations

from rest_framework import permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from portal.api.errors import DomainError
from sandboxes.agents import selectors, services
from sandboxes.agents.api.serializers import (
    ConfirmSerializer,
    ProfileVersionSerializer,
    ProfileWriteSerializer,
    RunDetailSerializer,
    RunSerializer,
    RunStartSerializer,
    profile_data,
)
from sandboxes.agents.models import Run
from sandboxes.models import Sandbox
from sandboxes.selectors import recipe_get_for_user


class AgentProfileView(APIView):
    """GET: the profiles (latest version each). POST (stewards): a new version."""

    permission_classes = [permissions.IsAuthenticated]

    def get(self, request: Request) -> Response:
        results = [profile_data(p) for p in selectors.profiles_active()]
        return Response({"results": [r for r in results if r is not None]})

    def post(self, request: Request) -> Response:
        data = ProfileWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        version = services.profile_version_create(actor=request.user, **fields)
        return Response(ProfileVersionSerializer(version).data, status=status.HTTP_201_CREATED)


class RunViewSet(viewsets.ViewSet):
    """Start (POST), list, inspect; events, cancel, confirm, resume."""

    permission_classes = [permissions.IsAuthenticated]

    def _get(self, request: Request, pk: str) -> Run:
        run = selectors.run_get_for_user(request.user, pk)
        if run is None:
            raise DomainError("no such run", code="not_found", status_code=404)
        return run

    def list(self, request: Request) -> Response:
        from portal.api.pagination import Pagination

        params = request.query_params
        qs = selectors.runs_visible(
            request.user,
            profile=params.get("profile", "")[:40],
            state=params.get("state", "")[:30],
            owner=params.get("user", "")[:200],
        )
        paginator = Pagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response(RunSerializer(page, many=True).data)

    def create(self, request: Request) -> Response:
        data = RunStartSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        recipe = None
        if values["recipe"]:
            recipe = recipe_get_for_user(request.user, slug=values["recipe"])
            if recipe is None:
                raise DomainError(
                    "no such recipe", code="invalid", fields={"recipe": ["no such recipe"]}
                )
        sandbox = None
        if values["sandbox"] is not None:
            sandbox = Sandbox.objects.filter(pk=values["sandbox"], owner_id=request.user.pk).first()
            if sandbox is None:
                raise DomainError(
                    "no such sandbox of yours",
                    code="invalid",
                    fields={"sandbox": ["no such sandbox of yours"]},
                )
        run = services.run_start(
            user=request.user,
            profile=values["profile"],
            task=values["task"],
            recipe=recipe,
            sandbox=sandbox,
            steps=values["steps"],
            shared=values["shared"],
        )
        return Response(RunDetailSerializer(run).data, status=status.HTTP_202_ACCEPTED)

    @action(detail=False, methods=["get"])
    def usage(self, request: Request) -> Response:
        """The requesting user's usage (last 24 hours and 30 days) and daily limits."""
        runs_per_day, tokens_per_day = services.run_limits_for(request.user)
        return Response(
            {
                "day": services.run_usage_for(request.user, days=1),
                "month": services.run_usage_for(request.user, days=30),
                "limits": {"runs_per_day": runs_per_day, "tokens_per_day": tokens_per_day},
            }
        )

    def retrieve(self, request: Request, pk: str) -> Response:
        return Response(RunDetailSerializer(self._get(request, pk)).data)

    @action(detail=True, methods=["get"])
    def events(self, request: Request, pk: str) -> Response:
        run = self._get(request, pk)
        try:
            after = int(request.query_params.get("after_seq", "0") or 0)
            limit = int(request.query_params.get("limit", "500") or 500)
        except ValueError:
            raise DomainError(
                "after_seq and limit must be integers",
                code="invalid",
                fields={"after_seq": ["an integer"]},
            ) from None
        events = selectors.run_events(run=run, after_seq=max(after, 0), limit=limit)
        last = events[-1]["seq"] if events else after
        more = bool(events) and selectors.run_events(run=run, after_seq=last, limit=1) != []
        return Response(
            {
                "topic": run.topic,
                "state": run.state,
                "events": events,
                "last_seq": last,
                "more": more,
            }
        )

    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str) -> Response:
        run = services.run_cancel(actor=request.user, run=self._get(request, pk))
        return Response(RunSerializer(run).data, status=status.HTTP_202_ACCEPTED)

    @action(detail=True, methods=["post"])
    def confirm(self, request: Request, pk: str) -> Response:
        data = ConfirmSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        run = services.run_confirm(
            actor=request.user,
            run=self._get(request, pk),
            approved=data.validated_data["approved"],
        )
        return Response(RunSerializer(run).data, status=status.HTTP_202_ACCEPTED)

    @action(detail=True, methods=["post"])
    def resume(self, request: Request, pk: str) -> Response:
        run = services.run_resume(actor=request.user, run=self._get(request, pk))
        return Response(RunSerializer(run).data, status=status.HTTP_202_ACCEPTED)
