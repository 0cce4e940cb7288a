"""Governance pages under /governance/."""

from __future__ import annotations

from django.urls import path

from governance import views, views_comments, views_polls, views_signoff

app_name = "governance"
urlpatterns = [
    path("", views.proposal_list, name="proposals"),
    path("proposals/new/", views.proposal_new, name="proposal-new"),
    path("proposals/similar/", views.proposal_similar, name="proposal-similar"),
    path("proposals/<int:pk>/", views.proposal_detail, name="proposal"),
    path("proposals/<int:pk>/revisions/<int:number>/", views.revision_diff, name="revision"),
    # before the catch-all proposal action below
    path("proposals/<int:pk>/signoff/", views_signoff.signoff_panel, name="signoff"),
    path("proposals/<int:pk>/signoff/start/", views_signoff.signoff_start, name="signoff-start"),
    path("proposals/<int:pk>/signoff/review/", views_signoff.signoff_review, name="signoff-review"),
    path("proposals/<int:pk>/signoff/concerns/", views_signoff.concern_raise, name="concern-raise"),
    path(
        "proposals/<int:pk>/signoff/concerns/<int:concern_id>/resolve/",
        views_signoff.concern_resolve,
        name="concern-resolve",
    ),
    path("proposals/<int:pk>/vote/new/", views_polls.proposal_poll_new, name="proposal-poll-new"),
    path("proposals/<int:pk>/<str:action>/", views.proposal_action, name="proposal-action"),
    path("comments/<int:comment_id>/", views_comments.comment_fragment, name="comment"),
    path("comments/<int:comment_id>/edit/", views_comments.comment_edit, name="comment-edit"),
    path("comments/<int:comment_id>/react/", views_comments.comment_react, name="comment-react"),
    path(
        "comments/<int:comment_id>/reactions/",
        views_comments.comment_reactions,
        name="comment-reactions",
    ),
    path("polls/", views.poll_list, name="polls"),
    path("polls/new/", views_polls.poll_new, name="poll-new"),
    path("polls/<int:pk>/", views.poll_detail, name="poll"),
    path("polls/<int:pk>/edit/", views_polls.poll_edit, name="poll-edit"),
    path("polls/<int:pk>/<str:action>/", views_polls.poll_action, name="poll-action"),
    path("receipts/", views.receipts, name="receipts"),
    path("verify/", views.verify, name="verify"),
    path("delegations/", views.delegations, name="delegations"),
]
