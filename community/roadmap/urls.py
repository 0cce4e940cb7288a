"""Roadmap pages under /roadmap/."""

from __future__ import annotations

from django.urls import path

from community.roadmap import views

app_name = "roadmap"
urlpatterns = [
    path("", views.board, name="board"),
    path("column/", views.board_column, name="column"),
    path("timeline/", views.timeline, name="timeline"),
    path("milestones/", views.milestone_list, name="milestones"),
    path("milestones/<int:pk>/", views.milestone_detail, name="milestone"),
    path("tasks/new/", views.task_new, name="task-new"),
    path("tasks/<str:code>/", views.task_detail, name="task"),
    path("tasks/<str:code>/move/", views.task_move, name="task-move"),
    path("tasks/<str:code>/edit/", views.task_edit, name="task-edit"),
]
