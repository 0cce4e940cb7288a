"""Sandbox pages under /sandboxes/."""

from __future__ import annotations

from django.urls import path

from sandboxes import views

app_name = "sandboxes"
urlpatterns = [
    path("", views.my_sandboxes, name="my_sandboxes"),
    path("launch/", views.sandbox_launch_view, name="launch"),
    path("all/", views.steward_overview, name="steward_overview"),
    path("recipes/", views.recipe_list, name="recipe_list"),
    path("recipes/new/", views.recipe_new, name="recipe_new"),
    path("recipes/share/<str:token>/", views.recipe_detail, name="recipe_share"),
    path("recipes/<slug:slug>/", views.recipe_detail, name="recipe_detail"),
    path("recipes/<slug:slug>/<str:action>/", views.recipe_action, name="recipe_action"),
    path("<int:pk>/", views.sandbox_detail, name="sandbox_detail"),
    path("<int:pk>/download/", views.sandbox_file_download, name="file_download"),
    path("<int:pk>/<str:action>/", views.sandbox_action, name="sandbox_action"),
]
