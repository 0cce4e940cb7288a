"""Roadmap API routes (included under /api/v1/)."""

from __future__ import annotations

from django.urls import URLPattern, path

from community.roadmap.api import views

app_name = "roadmap-api"

urlpatterns: list[URLPattern] = [
    path("milestones/", views.MilestoneListView.as_view(), name="milestones"),
    path("milestones/<int:pk>/", views.MilestoneDetailView.as_view(), name="milestone"),
    path("tasks/", views.TaskListView.as_view(), name="tasks"),
    path("tasks/import/", views.TaskImportView.as_view(), name="tasks-import"),
    path("tasks/export/", views.TaskExportView.as_view(), name="tasks-export"),
    path("tasks/wip-limits/", views.WipLimitView.as_view(), name="wip-limits"),
    path("tasks/<str:code>/", views.TaskDetailView.as_view(), name="task"),
]
