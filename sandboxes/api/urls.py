"""Sandbox API routes (under /api/v1/)."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path
from rest_framework.routers import SimpleRouter

from sandboxes.api import views

router = SimpleRouter()
router.register("recipes", views.RecipeViewSet, basename="api-recipe")
router.register("sandboxes", views.SandboxViewSet, basename="api-sandbox")

urlpatterns: list[URLPattern | URLResolver] = [
    path("quotas/", views.QuotaView.as_view(), name="api-quotas"),
    *router.urls,
]
