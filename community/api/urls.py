"""Community API routes (included under /api/v1/ by ``config.api_urls``)."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path
from rest_framework.routers import SimpleRouter

from community.api import views

router = SimpleRouter()
router.register("contributions", views.ContributionViewSet, basename="api-contribution")
router.register(
    "contribution-types", views.ContributionTypeViewSet, basename="api-contribution-type"
)
router.register("epochs", views.EpochViewSet, basename="api-epoch")
router.register("ledger/transactions", views.TransactionViewSet, basename="api-ledger-transaction")
router.register("ledger/balances", views.BalanceViewSet, basename="api-ledger-balance")
router.register("payouts", views.PayoutViewSet, basename="api-payout")
router.register("badges", views.BadgeViewSet, basename="api-badge")
router.register("scoring-policies", views.ScoringPolicyViewSet, basename="api-scoring-policy")

urlpatterns: list[URLPattern | URLResolver] = [
    path("leaderboard/", views.LeaderboardView.as_view(), name="api-leaderboard"),
    path("community/metrics/", views.MetricsView.as_view(), name="api-community-metrics"),
    path(
        "community/all-contributorsrc/",
        views.AllContributorsView.as_view(),
        name="api-all-contributorsrc",
    ),
    *router.urls,
]
