"""The portal's API views: thin — validate, call a service or selector, serialize."""

from __future__ import annotations

from typing import Any

import django_filters
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.filters import OrderingFilter, SearchFilter
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from portal.accounts.profiles import profile_update
from portal.accounts.roles import user_set_role
from portal.accounts.selectors import token_list, user_list, users_with_role
from portal.accounts.tokens import token_create, token_revoke
from portal.api import schema as _schema  # noqa: F401  (registers the bearer scheme)
from portal.api.permissions import IsSteward
from portal.api.serializers import (
    ErrorSerializer,
    MeSerializer,
    ProfileUpdateSerializer,
    RoleUpdateSerializer,
    TokenCreatedSerializer,
    TokenCreateSerializer,
    TokenSerializer,
    UserSerializer,
    me_payload,
)
from portal.models import ApiToken, Role, User

ERRORS = {
    400: OpenApiResponse(ErrorSerializer, description="Invalid input"),
    401: OpenApiResponse(ErrorSerializer, description="Not signed in"),
    403: OpenApiResponse(ErrorSerializer, description="Not allowed"),
    404: OpenApiResponse(ErrorSerializer, description="Not found"),
    409: OpenApiResponse(ErrorSerializer, description="Refused by a business rule"),
}


def _errors(*codes: int) -> dict[int, OpenApiResponse]:
    return {code: ERRORS[code] for code in codes}


class MeView(APIView):
    """The signed-in user (session or bearer token) with their roles."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="me_retrieve", responses={200: MeSerializer, **_errors(401)}, tags=["accounts"]
    )
    def get(self, request: Request) -> Response:
        return Response(me_payload(request.user))  # type: ignore[arg-type]

    @extend_schema(
        operation_id="me_update",
        request=ProfileUpdateSerializer,
        responses={200: MeSerializer, **_errors(400, 401)},
        tags=["accounts"],
    )
    def patch(self, request: Request) -> Response:
        form = ProfileUpdateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        user = profile_update(user=request.user, **form.validated_data)  # type: ignore[arg-type]
        return Response(MeSerializer(user, context={"request": request}).data)


class UserFilter(django_filters.FilterSet):
    role = django_filters.ChoiceFilter(
        choices=Role.choices, method="filter_role", label="Highest role"
    )

    class Meta:
        model = User
        fields = ["role", "github_handle"]

    def filter_role(self, queryset: Any, name: str, value: str) -> Any:
        return users_with_role(queryset, value)


@extend_schema_view(
    list=extend_schema(responses={200: UserSerializer(many=True), **_errors(401)}),
    retrieve=extend_schema(responses={200: UserSerializer, **_errors(401, 404)}),
    partial_update=extend_schema(
        summary="Change a user's role (stewards only)",
        request=RoleUpdateSerializer,
        responses={200: UserSerializer, **_errors(400, 401, 403, 404, 409)},
    ),
)
@extend_schema(tags=["accounts"])
class UserViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """The user directory; stewards change roles with ``PATCH {"role": …}``."""

    serializer_class = UserSerializer
    permission_classes = [IsAuthenticated]
    http_method_names = ["get", "patch", "head", "options"]
    filterset_class = UserFilter
    filter_backends = [
        django_filters.rest_framework.DjangoFilterBackend,
        SearchFilter,
        OrderingFilter,
    ]
    search_fields = ["username", "display_name", "github_handle"]
    ordering_fields = ["id", "username", "date_joined"]
    ordering = ["id"]
    queryset = User.objects.none()  # for the schema; get_queryset scopes to the viewer

    def get_queryset(self) -> Any:
        return user_list(viewer=self.request.user)

    def get_permissions(self) -> Any:
        if self.action == "partial_update":
            return [IsAuthenticated(), IsSteward()]
        return super().get_permissions()

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        user = self.get_object()
        form = RoleUpdateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        user = user_set_role(actor=request.user, user=user, role=form.validated_data["role"])  # type: ignore[arg-type]
        return Response(UserSerializer(user, context={"request": request}).data)


@extend_schema_view(
    list=extend_schema(responses={200: TokenSerializer(many=True), **_errors(401)}),
    retrieve=extend_schema(responses={200: TokenSerializer, **_errors(401, 404)}),
    create=extend_schema(
        summary="Create a token; the response holds the secret, shown only this once",
        request=TokenCreateSerializer,
        responses={201: TokenCreatedSerializer, **_errors(400, 401, 409)},
    ),
    destroy=extend_schema(
        summary="Revoke a token",
        responses={204: OpenApiResponse(description="Revoked"), **_errors(401, 404)},
    ),
)
@extend_schema(tags=["accounts"])
class TokenViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Your personal API tokens. Another person's token is simply not found (404)."""

    serializer_class = TokenSerializer
    permission_classes = [IsAuthenticated]
    filter_backends = [OrderingFilter]
    ordering_fields = ["created_at", "expires_at", "last_used_at"]
    queryset = ApiToken.objects.none()  # for the schema; get_queryset scopes to the owner

    def get_queryset(self) -> Any:
        return token_list(user=self.request.user)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        form = TokenCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        token, secret = token_create(
            user=request.user,
            name=form.validated_data["name"],
            expires_at=form.validated_data.get("expires_at"),
        )
        body = TokenCreatedSerializer(token, context={"request": request, "secret": secret}).data
        return Response(body, status=status.HTTP_201_CREATED)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        token_revoke(actor=request.user, token=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


@require_GET
def bench_bare(request: HttpRequest) -> JsonResponse:
    """A plain Django JSON view: the baseline the API benchmark compares against."""
    return JsonResponse({"id": 0, "username": "bench", "roles": ["member"]})
