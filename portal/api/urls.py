"""The portal's API routes (included under /api/v1/ by ``config.api_urls``)."""

from __future__ import annotations

from django.conf import settings
from django.urls import URLPattern, URLResolver, path
from rest_framework.routers import SimpleRouter

from portal.api import views

router = SimpleRouter()
router.register("users", views.UserViewSet, basename="api-user")
router.register("tokens", views.TokenViewSet, basename="api-token")

urlpatterns: list[URLPattern | URLResolver] = [
    path("me/", views.MeView.as_view(), name="api-me"),
    *router.urls,
]

# Only for `make bench`: a bare Django view measured against the API in the same server.
if getattr(settings, "AGORA_BENCH", False):
    urlpatterns.append(path("bench/bare/", views.bench_bare, name="api-bench-bare"))
