"""Governance pages under /governance/."""

from __future__ import annotations

from django.urls import path

from governance import views

app_name = "governance"
urlpatterns = [
    path("", views.proposal_list, name="proposals"),
    path("proposals/new/", views.proposal_new, name="proposal-new"),
    path("proposals/similar/", views.proposal_similar, name="proposal-similar"),
    path("proposals/<int:pk>/", views.proposal_detail, name="proposal"),
    path("proposals/<int:pk>/revisions/<int:number>/", views.revision_diff, name="revision"),
    path("proposals/<int:pk>/<str:action>/", views.proposal_action, name="proposal-action"),
    path("polls/", views.poll_list, name="polls"),
    path("polls/<int:pk>/", views.poll_detail, name="poll"),
    path("receipts/", views.receipts, name="receipts"),
    path("verify/", views.verify, name="verify"),
    path("delegations/", views.delegations, name="delegations"),
]
