"""Demo data for `manage.py demo_seed` (idempotent)."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from community.defaults import defaults_ensure
from community.models import Contribution, ContributionStatus, Currency, Epoch, EpochStatus
from community.services.contributions import contributor_for
from community.services.epochs import epoch_open, month_bounds
from community.services.ledger import pool_fund
from portal.models import User

DEMO_WORK = [
    ("ada@agora.localhost", "code", "Ledger health command", ContributionStatus.APPROVED),
    ("ada@agora.localhost", "doc", "Contributor guide", ContributionStatus.APPROVED),
    ("ada@agora.localhost", "test", "Property tests for allocation", ContributionStatus.PENDING),
    ("grace@agora.localhost", "bug", "Crash on empty epoch", ContributionStatus.APPROVED),
    ("grace@agora.localhost", "mentoring", "Onboarded two newcomers", ContributionStatus.PENDING),
]


@transaction.atomic
def demo_seed() -> None:
    defaults_ensure()
    usd = Currency.objects.get(code="USD")
    now = timezone.now()
    for email, slug, title, status in DEMO_WORK:
        user = User.objects.filter(email=email).first()
        if user is None:
            continue
        contributor = contributor_for(user)
        if Contribution.objects.filter(contributor=contributor, title=title).exists():
            continue
        Contribution.objects.create(
            contributor=contributor,
            type_id=_type_id(slug),
            title=title,
            status=status,
            approved_at=now if status == ContributionStatus.APPROVED else None,
            description="Demo contribution.",
        )
    if not Epoch.objects.filter(status=EpochStatus.OPEN).exists():
        start, end = month_bounds(now)
        name = start.strftime("%Y-%m")
        if not Epoch.objects.filter(name=name).exists():
            epoch_open(
                actor=None,
                name=name,
                starts_at=start,
                ends_at=end,
                currency="USD",
                pool_amount="1000.00",
            )
    pool_fund(
        currency=usd,
        amount=Decimal("1000.00"),
        actor=None,
        idempotency_key="demo:pool-funding",
        memo="demo funding",
    )


def _type_id(slug: str) -> int:
    from community.models import ContributionType

    return ContributionType.objects.get(slug=slug).pk
