"""Community pages under /community/ and the GitHub webhook."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from community.views import manage, pages
from community.views.webhooks import github_webhook

app_name = "community"
urlpatterns: list[URLPattern | URLResolver] = [
    path("github/webhook/", github_webhook, name="github-webhook"),
    path("", pages.home, name="home"),
    path("claim/", pages.claim, name="claim"),
    path("profile/", pages.profile_edit, name="profile-edit"),
    path("contributions/<int:pk>/", pages.contribution_detail, name="contribution"),
    path("review/", pages.review_queue, name="review-queue"),
    path("epochs/", pages.epoch_list, name="epochs"),
    path("epochs/<int:pk>/", pages.epoch_detail, name="epoch"),
    path("ledger/", pages.ledger_browser, name="ledger"),
    path("ledger/health/", pages.ledger_health_page, name="ledger-health"),
    path("payouts/", pages.payouts, name="payouts"),
    path("leaderboard/", pages.leaderboard, name="leaderboard"),
    path("contributors/<int:pk>/", pages.contributor_profile, name="contributor"),
    path("manage/", manage.manage_home, name="manage"),
    path("manage/epochs/new/", manage.manage_epoch_open, name="manage-epoch-open"),
    path("manage/policy/", manage.manage_policy, name="manage-policy"),
    path("manage/types/", manage.manage_types, name="manage-types"),
    path("manage/badges/", manage.manage_badges, name="manage-badges"),
    path("all-contributorsrc/", pages.all_contributors, name="all-contributorsrc"),
]
