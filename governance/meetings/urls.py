"""Meeting pages under /meetings/."""

from __future__ import annotations

from django.urls import path

from governance.meetings import views

app_name = "meetings"
urlpatterns = [
    path("", views.index, name="index"),
    path("series/new/", views.series_new, name="series-new"),
    path("series/<int:pk>/", views.series_detail, name="series"),
    path("series/<int:pk>/calendar.ics", views.series_calendar, name="series-calendar"),
    path("series/<int:pk>/notes.jsonl", views.notes_export, name="series-notes"),
    path("calendar/<str:token>.ics", views.user_calendar, name="user-calendar"),
    path("templates/", views.templates_page, name="templates"),
    path("<int:pk>/", views.meeting_detail, name="meeting"),
    path("<int:pk>/panel/<slug:panel>/", views.meeting_panel, name="panel"),
    path("<int:pk>/minutes/", views.minutes_review, name="minutes"),
    path("<int:pk>/minutes.md", views.minutes_markdown, name="minutes-md"),
    path("<int:pk>/do/<slug:action>/", views.meeting_act, name="act"),
]
