from __future__ import annotations

from django.urls import path

from directus import views

app_name = "directus"
urlpatterns = [
    path("docs/", views.docs_index, name="docs"),
    path("docs/<slug:slug>/", views.doc_detail, name="doc"),
    path("p/<slug:slug>/", views.page_detail, name="page"),
    path("search/", views.search_page, name="search"),
    path("directus/webhook/", views.webhook, name="webhook"),
    path("directus/preview/<str:collection>/<str:key>/", views.preview, name="preview"),
]
