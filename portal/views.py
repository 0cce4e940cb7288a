"""The site shell's own pages."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from portal.home import home_sections_render


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/home.html", {"sections": home_sections_render(request)})
