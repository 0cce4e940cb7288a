"""The API under /api/v1/: each app exposes ``<app>.api.urls`` and is included here."""

from django.urls import include, path

urlpatterns = [
    path("", include("portal.api.urls")),
    path("", include("governance.api.urls")),
    path("", include("community.api.urls")),
    path("", include("governance.meetings.api.urls")),
    path("", include("community.roadmap.api.urls")),
    path("", include("sandboxes.api.urls")),
    path("", include("sandboxes.agents.api.urls")),
    path("", include("directus.api.urls")),
]
