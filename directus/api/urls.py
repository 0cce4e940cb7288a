from __future__ import annotations

from django.urls import path

from directus.api import views

urlpatterns = [
    path("content/pages/", views.PageList.as_view(), name="content-pages"),
    path("content/docs/", views.DocList.as_view(), name="content-docs"),
    path("content/announcements/", views.AnnouncementList.as_view(), name="content-announcements"),
    path("search/", views.SearchView.as_view(), name="search"),
]
