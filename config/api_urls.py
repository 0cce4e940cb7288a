"""The API under /api/v1/: each app exposes ``<app>.api.urls`` and is included here."""

from django.urls import include, path

urlpatterns = [
    path("", include("portal.api.urls")),
]
