"""Agent run pages and the stewards' agent profile pages (under /runs/)."""

from __future__ import annotations

from django.urls import path

from sandboxes.agents import views

app_name = "agents"

urlpatterns = [
    path("", views.run_list, name="run_list"),
    path("new/", views.run_new, name="run_new"),
    path("profiles/", views.profile_list, name="profile_list"),
    path("profiles/new/", views.profile_new, name="profile_new"),
    path("profiles/<slug:name>/", views.profile_edit, name="profile_edit"),
    path("<int:pk>/", views.run_detail, name="run_detail"),
    path("<int:pk>/<str:action>/", views.run_action, name="run_action"),
]
