"""Meetings API routes (included under /api/v1/)."""

from __future__ import annotations

from django.urls import URLPattern, path

from governance.meetings.api import views

app_name = "meetings-api"

M = "meetings/<int:pk>/"

urlpatterns: list[URLPattern] = [
    path("agenda-templates/", views.TemplateListView.as_view(), name="templates"),
    path("agenda-templates/<slug:slug>/", views.TemplateDetailView.as_view(), name="template"),
    path("meeting-series/", views.SeriesListView.as_view(), name="series-list"),
    path("meeting-series/<int:pk>/", views.SeriesDetailView.as_view(), name="series"),
    path("meetings/", views.MeetingListView.as_view(), name="meetings"),
    path("meetings/notes/export/", views.NotesExportView.as_view(), name="notes-export"),
    path("meetings/notes/import/", views.NotesImportView.as_view(), name="notes-import"),
    path(M, views.MeetingDetailView.as_view(), name="meeting"),
    path(M + "start/", views.MeetingActionView.as_view(action_name="start"), name="start"),
    path(M + "end/", views.MeetingActionView.as_view(action_name="end"), name="end"),
    path(M + "agenda-items/", views.AgendaItemListView.as_view(), name="agenda-items"),
    path(M + "agenda-items/order/", views.AgendaOrderView.as_view(), name="agenda-order"),
    path(M + "agenda-items/<int:item_id>/notes/", views.NoteView.as_view(), name="notes"),
    path(
        M + "agenda-items/<int:item_id>/editing/",
        views.NoteEditingView.as_view(),
        name="editing",
    ),
    path(M + "attendance/", views.AttendanceView.as_view(), name="attendance"),
    path(M + "decisions/", views.DecisionView.as_view(), name="decisions"),
    path(M + "action-items/", views.ActionItemListView.as_view(), name="action-items"),
    path(M + "minutes/", views.MinutesView.as_view(), name="minutes"),
    path(M + "amendments/", views.AmendmentListView.as_view(), name="amendments"),
    path(
        M + "amendments/<int:amendment_id>/",
        views.AmendmentDecisionView.as_view(),
        name="amendment",
    ),
]
