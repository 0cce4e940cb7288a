"""Small helpers shared by the governance page views."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string


def is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def partial_response(
    request: HttpRequest, template: str, context: dict[str, object], *, status: int = 200
) -> HttpResponse:
    """An htmx fragment. Refusals keep their 4xx status; the ``X-Agora-Partial`` header
    tells pages.js to swap them in anyway so the error shows where the user acted."""
    response = HttpResponse(render_to_string(template, context, request=request), status=status)
    response["X-Agora-Partial"] = "1"
    return response
