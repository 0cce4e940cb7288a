"""Read-only API over the content mirror, and site search."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, permissions
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from directus import selectors
from directus.api.serializers import (
    AnnouncementSerializer,
    DocSerializer,
    PageSerializer,
    SearchHitSerializer,
)
from directus.constants import Collection
from directus.search import MAX_QUERY_LENGTH, search_run
from portal.api.errors import DomainError

LANG_PARAM = OpenApiParameter("lang", str, description="content language (falls back to en)")


class _ContentList(generics.ListAPIView):
    permission_classes = [permissions.AllowAny]
    collection: str = ""

    def get_queryset(self) -> Any:
        language = selectors.language_normalize(self.request.query_params.get("lang"))
        rows = selectors.items_published(collection=self.collection, language=language)
        slug = self.request.query_params.get("slug")
        return rows.filter(slug=slug) if slug else rows


@extend_schema(parameters=[LANG_PARAM, OpenApiParameter("slug", str)])
class PageList(_ContentList):
    """Published pages."""

    serializer_class = PageSerializer
    collection = Collection.PAGES


@extend_schema(parameters=[LANG_PARAM, OpenApiParameter("slug", str)])
class DocList(_ContentList):
    """Published docs, ordered by section and sort."""

    serializer_class = DocSerializer
    collection = Collection.DOCS


class AnnouncementList(generics.ListAPIView):
    """Announcements shown now (within their publish window), pinned first."""

    permission_classes = [permissions.AllowAny]
    serializer_class = AnnouncementSerializer
    pagination_class = None

    def get_queryset(self) -> Any:
        return selectors.announcements_current(limit=50)


class SearchView(APIView):
    """Full-text search across docs, pages and whatever other apps register."""

    permission_classes = [permissions.AllowAny]

    @extend_schema(
        parameters=[OpenApiParameter("q", str, required=True), LANG_PARAM],
        responses=SearchHitSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        query = str(request.query_params.get("q", "")).strip()
        if not query:
            raise DomainError("q is required", code="required", fields={"q": ["required"]})
        if len(query) > MAX_QUERY_LENGTH:
            raise DomainError(
                f"q is longer than {MAX_QUERY_LENGTH} characters",
                code="too_long",
                fields={"q": ["too long"]},
            )
        language = selectors.language_normalize(request.query_params.get("lang"))
        hits = search_run(query, user=request.user, language=language)
        return Response({"query": query, "results": [hit.as_dict() for hit in hits]})
