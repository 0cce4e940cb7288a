"""The HUD page and one JSON endpoint per widget."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from portal.hud.widgets import WIDGETS, widget_data, widgets_for


def hud_page(request: HttpRequest) -> HttpResponse:
    widgets = widgets_for(request.user)
    return render(
        request,
        "portal/hud.html",
        {"widgets": widgets, "initial": {w.name: widget_data(w, request.user) for w in widgets}},
    )


@never_cache
def hud_widget(request: HttpRequest, widget: str) -> JsonResponse:
    spec = WIDGETS.get(widget)
    if spec is None:
        raise Http404("no such widget")
    if not spec.public and not request.user.is_authenticated:
        return JsonResponse(
            {"error": {"code": "not_authenticated", "message": "sign in to see this widget"}},
            status=401,
        )
    return JsonResponse(widget_data(spec, request.user))


def hud_index(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"widgets": [w.name for w in widgets_for(request.user)]})
