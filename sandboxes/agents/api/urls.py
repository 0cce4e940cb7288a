"""Agent run API routes (under /api/v1/)."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path
from rest_framework.routers import SimpleRouter

from sandboxes.agents.api import views

router = SimpleRouter()
router.register("runs", views.RunViewSet, basename="api-run")

urlpatterns: list[URLPattern | URLResolver] = [
    path("agent-profiles/", views.AgentProfileView.as_view(), name="api-agent-profiles"),
    *router.urls,
]
