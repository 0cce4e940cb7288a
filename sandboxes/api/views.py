"""Thin API views: validate → call a service or selector → serialize."""

from __future__ import annotations

import base64
import binascii
from dataclasses import asdict
from typing import Any

from django.contrib.auth import get_user_model
from django.http import HttpResponse
from rest_framework import permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from portal.accounts.roles import user_has_role
from portal.api.errors import DomainError
from sandboxes import selectors, services
from sandboxes.api.serializers import (
    ExecSerializer,
    InviteSerializer,
    LaunchSerializer,
    QuotaPolicySerializer,
    QuotaUpdateSerializer,
    RecipeSerializer,
    RecipeUpdateSerializer,
    RecipeWriteSerializer,
    SandboxSerializer,
)
from sandboxes.models import GlobalQuota, QuotaPolicy, Recipe, Sandbox


def _not_found(what: str = "not found") -> DomainError:
    return DomainError(what, code="not_found", status_code=404)


class RecipeViewSet(viewsets.ViewSet):
    """The recipe registry: search, publish, new versions, fork, star, trust, share links."""

    permission_classes = [permissions.IsAuthenticatedOrReadOnly]
    lookup_field = "slug"

    def _get(self, request: Request, slug: str) -> Recipe:
        recipe = selectors.recipe_get_for_user(request.user, slug=slug)
        if recipe is None:
            raise _not_found("no such recipe")
        return recipe

    def list(self, request: Request) -> Response:
        params = request.query_params
        qs = selectors.recipes_visible(
            request.user,
            q=params.get("q", "")[:100],
            language=params.get("language", ""),
            tag=params.get("tag", "")[:40],
            mine=params.get("mine") == "1",
        ).prefetch_related("versions")
        paginator = self.paginator
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response(RecipeSerializer(page, many=True).data)

    @property
    def paginator(self) -> Any:
        from portal.api.pagination import Pagination

        if not hasattr(self, "_paginator"):
            self._paginator = Pagination()
        return self._paginator

    def retrieve(self, request: Request, slug: str) -> Response:
        return Response(RecipeSerializer(self._get(request, slug)).data)

    def create(self, request: Request) -> Response:
        data = RecipeWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        recipe = services.recipe_publish(user=request.user, **data.validated_data)
        return Response(RecipeSerializer(recipe).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, slug: str) -> Response:
        data = RecipeUpdateSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        recipe = self._get(request, slug)
        services.recipe_version_add(user=request.user, recipe=recipe, **data.validated_data)
        recipe.refresh_from_db()
        return Response(RecipeSerializer(recipe).data)

    @action(detail=True, methods=["post"])
    def fork(self, request: Request, slug: str) -> Response:
        fork = services.recipe_fork(
            user=request.user,
            recipe=self._get(request, slug),
            name=str(request.data.get("name", ""))[:120],
        )
        return Response(RecipeSerializer(fork).data, status=status.HTTP_201_CREATED)

    @action(detail=True, methods=["post", "delete"])
    def star(self, request: Request, slug: str) -> Response:
        recipe = services.recipe_star(
            user=request.user, recipe=self._get(request, slug), starred=request.method == "POST"
        )
        return Response({"stars_count": recipe.stars_count})

    @action(detail=True, methods=["post"])
    def trust(self, request: Request, slug: str) -> Response:
        trusted = bool(request.data.get("trusted", True))
        recipe = services.recipe_set_trusted(
            actor=request.user, recipe=self._get(request, slug), trusted=trusted
        )
        return Response(RecipeSerializer(recipe).data)

    @action(detail=False, methods=["get"], url_path=r"share/(?P<token>[A-Za-z0-9_-]+)")
    def share(self, request: Request, token: str) -> Response:
        recipe = selectors.recipe_get_for_user(request.user, share_token=token)
        if recipe is None:
            raise _not_found("no such recipe")
        return Response(RecipeSerializer(recipe).data)


class SandboxViewSet(viewsets.ViewSet):
    """Launch (POST), list, inspect, stop (DELETE); exec, files, log, keep-alive, invite."""

    permission_classes = [permissions.IsAuthenticated]

    def _get(self, request: Request, pk: str) -> Sandbox:
        sandbox = selectors.sandbox_get_for_user(request.user, pk)
        if sandbox is None and user_has_role(request.user, "steward"):
            sandbox = selectors.sandboxes_all_for_steward(request.user).filter(pk=pk).first()
        if sandbox is None:
            raise _not_found("no such sandbox")
        return sandbox

    def list(self, request: Request) -> Response:
        if request.query_params.get("all") == "1":
            if not user_has_role(request.user, "steward"):
                raise DomainError(
                    "only stewards can list every sandbox", code="forbidden", status_code=403
                )
            qs = selectors.sandboxes_all_for_steward(request.user)
        else:
            qs = selectors.sandboxes_for_user(request.user)
        state = request.query_params.get("state")
        if state:
            qs = qs.filter(state=state)
        from portal.api.pagination import Pagination

        paginator = Pagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response(SandboxSerializer(page, many=True).data)

    def create(self, request: Request) -> Response:
        data = LaunchSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        recipe = selectors.recipe_get_for_user(request.user, slug=data.validated_data["recipe"])
        if recipe is None:
            raise DomainError(
                "no such recipe", code="invalid", fields={"recipe": ["no such recipe"]}
            )
        sandbox = services.sandbox_launch(
            user=request.user, recipe=recipe, backend=data.validated_data["backend"]
        )
        return Response(SandboxSerializer(sandbox).data, status=status.HTTP_202_ACCEPTED)

    def retrieve(self, request: Request, pk: str) -> Response:
        return Response(SandboxSerializer(self._get(request, pk)).data)

    def destroy(self, request: Request, pk: str) -> Response:
        sandbox = services.sandbox_stop(actor=request.user, sandbox=self._get(request, pk))
        return Response(SandboxSerializer(sandbox).data)

    @action(detail=True, methods=["post"])
    def keepalive(self, request: Request, pk: str) -> Response:
        sandbox = services.sandbox_keep_alive(user=request.user, sandbox=self._get(request, pk))
        return Response(SandboxSerializer(sandbox).data)

    @action(detail=True, methods=["post"], url_path="exec")
    def exec_command(self, request: Request, pk: str) -> Response:
        data = ExecSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = services.sandbox_exec(
            user=request.user,
            sandbox=self._get(request, pk),
            command=data.validated_data["command"],
            timeout=data.validated_data["timeout"],
        )
        return Response(
            {
                "exit_code": result.exit_code,
                "output": result.output.decode("utf-8", errors="replace"),
                "truncated": result.truncated,
                "timed_out": result.timed_out,
                "killed_by": result.killed_by,
                "duration": round(result.duration, 4),
            }
        )

    @action(detail=True, methods=["get", "post"])
    def files(self, request: Request, pk: str) -> Response | HttpResponse:
        sandbox = self._get(request, pk)
        if request.method == "POST":
            return self._upload(request, sandbox)
        path = request.query_params.get("path", "")
        if request.query_params.get("download") == "1":
            data = services.sandbox_file_read(user=request.user, sandbox=sandbox, path=path)
            name = path.rstrip("/").rsplit("/", 1)[-1] or "file"
            response = HttpResponse(data, content_type="application/octet-stream")
            response["Content-Disposition"] = f'attachment; filename="{name}"'
            return response
        entries = services.sandbox_files_list(user=request.user, sandbox=sandbox, path=path)
        return Response({"path": path, "entries": [asdict(e) for e in entries]})

    def _upload(self, request: Request, sandbox: Sandbox) -> Response:
        upload = request.FILES.get("file")
        path = str(request.data.get("path", "") or (upload.name if upload else ""))
        if upload is not None:
            if upload.size and upload.size > services.MAX_UPLOAD_BYTES:
                raise DomainError("file is larger than 10 MB", code="too_large", status_code=413)
            data = upload.read(services.MAX_UPLOAD_BYTES + 1)
        else:
            try:
                data = base64.b64decode(str(request.data.get("content_base64", "")), validate=True)
            except (binascii.Error, ValueError) as exc:
                raise DomainError("content_base64 is not valid base64", code="invalid") from exc
        if not path:
            raise DomainError("path is required", code="invalid", fields={"path": ["required"]})
        services.sandbox_file_write(user=request.user, sandbox=sandbox, path=path, data=data)
        return Response({"path": path, "size": len(data)}, status=status.HTTP_201_CREATED)

    @action(detail=True, methods=["get"])
    def log(self, request: Request, pk: str) -> HttpResponse:
        sandbox = self._get(request, pk)
        data = bytes(sandbox.terminal_log or b"")
        if sandbox.is_active and sandbox.handle_ref:
            from sandboxes.backends import backend_get
            from sandboxes.services.lifecycle import sandbox_handle

            data = backend_get(sandbox.backend).terminal_log(sandbox_handle(sandbox))
        response = HttpResponse(data, content_type="text/plain; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="sandbox-{sandbox.pk}.log"'
        return response

    @action(detail=True, methods=["post"])
    def invite(self, request: Request, pk: str) -> Response:
        data = InviteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        sandbox = self._get(request, pk)
        viewer = get_user_model().objects.filter(username=data.validated_data["username"]).first()
        if viewer is None:
            raise DomainError("no such user", code="invalid", fields={"username": ["unknown"]})
        if data.validated_data["remove"]:
            services.sandbox_uninvite(user=request.user, sandbox=sandbox, viewer=viewer)
        else:
            services.sandbox_invite(user=request.user, sandbox=sandbox, viewer=viewer)
        return Response({"viewers": list(sandbox.viewers.values_list("username", flat=True))})


class QuotaView(APIView):
    """GET: your usage against your role's quota (stewards also see every policy).
    PUT/PATCH ``{"role": …, …limits}``: stewards change a role's quota or the global cap."""

    permission_classes = [permissions.IsAuthenticated]

    def get(self, request: Request) -> Response:
        body: dict[str, Any] = {"usage": asdict(services.quota_usage(request.user))}
        if user_has_role(request.user, "steward"):
            body["policies"] = QuotaPolicySerializer(QuotaPolicy.objects.all(), many=True).data
            quota = GlobalQuota.current()
            body["global"] = {
                "max_running": quota.max_running,
                "workspace_retention_hours": quota.workspace_retention_hours,
            }
        return Response(body)

    def patch(self, request: Request) -> Response:
        data = QuotaUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        role = str(request.data.get("role", ""))
        services.quota_update(actor=request.user, role=role, **data.validated_data)
        return self.get(request)

    put = patch
