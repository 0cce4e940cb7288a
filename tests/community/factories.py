"""Factories and helpers for the community suites."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from community.defaults import defaults_ensure
from community.models import Currency
from community.services.contributions import (
    contribution_claim,
    contribution_review,
    contributor_for,
)
from community.services.ledger import pool_fund
from tests.factories import UserFactory


def usd() -> Currency:
    defaults_ensure()
    return Currency.objects.get(code="USD")


def fund(amount: str, code: str = "USD", key: str | None = None) -> None:
    defaults_ensure()
    currency = Currency.objects.get(code=code)
    pool_fund(
        currency=currency,
        amount=Decimal(amount),
        actor=None,
        idempotency_key=key or f"fund:{code}:{amount}:{Currency.objects.count()}-{id(object())}",
    )


def approved_contribution(
    user: Any, type_slug: str = "code", effort: str = "medium", reviewer: Any = None
) -> Any:
    contribution = contribution_claim(
        user=user, type_slug=type_slug, title=f"{type_slug} work", effort=effort
    )
    reviewer = reviewer or UserFactory(role="maintainer")
    for _ in range(contribution.type.required_approvals):
        contribution_review(contribution_id=contribution.pk, reviewer=reviewer, decision="approve")
        reviewer = UserFactory(role="maintainer")
    contribution.refresh_from_db()
    contributor_for(user)
    return contribution
