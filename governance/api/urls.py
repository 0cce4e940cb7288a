"""Governance API routes (included under /api/v1/)."""

from __future__ import annotations

from django.conf import settings
from django.urls import URLPattern, path

from governance.api import views

app_name = "governance-api"

urlpatterns: list[URLPattern] = [
    path("proposals/", views.ProposalListView.as_view(), name="proposals"),
    path("proposals/similar/", views.ProposalSimilarView.as_view(), name="proposals-similar"),
    path("proposals/<int:pk>/", views.ProposalDetailView.as_view(), name="proposal"),
    *[
        path(
            f"proposals/<int:pk>/{name}/",
            views.ProposalActionView.as_view(action_name=name),
            name=f"proposal-{name}",
        )
        for name in ("submit", "second", "withdraw", "open-vote", "outcome", "roadmap-tasks")
    ],
    path("proposals/<int:pk>/comments/", views.CommentListView.as_view(), name="comments"),
    path(
        "proposals/<int:pk>/comments/<int:comment_id>/",
        views.CommentDetailView.as_view(),
        name="comment",
    ),
    path(
        "proposals/<int:pk>/comments/<int:comment_id>/reactions/",
        views.CommentReactionView.as_view(),
        name="comment-reactions",
    ),
    path("proposals/<int:pk>/signoff/", views.SignoffView.as_view(), name="signoff"),
    path(
        "proposals/<int:pk>/signoff/review/",
        views.SignoffActionView.as_view(action_name="review"),
        name="signoff-review",
    ),
    path(
        "proposals/<int:pk>/signoff/concerns/",
        views.SignoffActionView.as_view(action_name="concern"),
        name="signoff-concerns",
    ),
    path(
        "proposals/<int:pk>/signoff/concerns/<int:concern_id>/resolve/",
        views.SignoffActionView.as_view(action_name="resolve"),
        name="signoff-concern-resolve",
    ),
    path("polls/", views.PollListView.as_view(), name="polls"),
    path("polls/<int:pk>/", views.PollDetailView.as_view(), name="poll"),
    path(
        "polls/<int:pk>/open/", views.PollActionView.as_view(action_name="open"), name="poll-open"
    ),
    path(
        "polls/<int:pk>/close/",
        views.PollActionView.as_view(action_name="close"),
        name="poll-close",
    ),
    path("polls/<int:pk>/ballots/", views.BallotView.as_view(), name="ballots"),
    path("polls/<int:pk>/results/", views.ResultsView.as_view(), name="results"),
    path("polls/<int:pk>/verify/", views.VerifyView.as_view(), name="verify"),
    path("delegations/", views.DelegationListView.as_view(), name="delegations"),
    path("delegations/<str:scope>/", views.DelegationDetailView.as_view(), name="delegation"),
]

# Only for `make bench`: the bare insert the vote-casting benchmark compares against.
if getattr(settings, "AGORA_BENCH", False):
    urlpatterns.append(path("bench/governance-insert/", views.bench_bare_insert))
