"""Root URL configuration. Each app contributes pages and an API router under /api/v1/."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/v1/", include("config.api_urls")),
    path("governance/", include("governance.urls")),
    path("community/", include("community.urls")),
    path("meetings/", include("governance.meetings.urls")),
    path("roadmap/", include("community.roadmap.urls")),
    path("sandboxes/", include("sandboxes.urls")),
    path("runs/", include("sandboxes.agents.urls")),
    path("", include("directus.urls")),
    path("", include("portal.urls")),
]

# Unknown URLs and crashes under /api/ answer in the API's JSON error shape.
handler404 = "portal.api.errors.page_not_found"
handler500 = "portal.api.errors.server_error"
