"""Real threads on PostgreSQL: row locks make approvals, payments and closes happen once."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection, connections
from django.utils import timezone

from community.models import Allocation, LedgerTransaction, PayoutStatus
from community.services.contributions import contributor_for
from community.services.epochs import epoch_close, epoch_open
from community.services.ledger import contributor_balance, contributor_grant
from community.services.payouts import payout_approve, payout_pay, payout_request
from portal.api.errors import DomainError
from tests.community.factories import approved_contribution, fund, usd
from tests.factories import UserFactory

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks"),
]


def race(*calls: Callable[[], Any]) -> list[Any]:
    """Run the calls at the same moment in threads; return results or DomainErrors."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(index: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout=10)
            results[index] = call()
        except DomainError as exc:
            results[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_two_stewards_approving_and_paying_at_once_pay_once():
    member = UserFactory(role="member")
    first, second = UserFactory(role="steward"), UserFactory(role="steward")
    fund("100", key="f")
    contributor_grant(
        contributor=contributor_for(member),
        currency=usd(),
        amount=Decimal("40"),
        actor=None,
        idempotency_key="g",
    )
    payout = payout_request(user=member, amount="40", currency="USD")

    approvals = race(
        lambda: payout_approve(payout_id=payout.pk, steward=first),
        lambda: payout_approve(payout_id=payout.pk, steward=second),
    )
    refused = [r for r in approvals if isinstance(r, DomainError)]
    assert len(refused) == 1 and refused[0].code == "not_draft"

    payments = race(
        lambda: payout_pay(payout_id=payout.pk, steward=first),
        lambda: payout_pay(payout_id=payout.pk, steward=second),
    )
    paid = [r for r in payments if not isinstance(r, DomainError)]
    assert len(paid) == 1 and paid[0].status == PayoutStatus.PAID
    assert LedgerTransaction.objects.filter(source="payout").count() == 1
    assert contributor_balance(contributor=contributor_for(member), currency=usd()) == 0


def test_concurrent_epoch_close_runs_once():
    steward, other = UserFactory(role="steward"), UserFactory(role="steward")
    member = UserFactory(role="member")
    fund("100", key="f")
    now = timezone.now()
    epoch = epoch_open(
        actor=steward,
        name="race",
        starts_at=now - timedelta(days=1),
        ends_at=now + timedelta(days=1),
        currency="USD",
        pool_amount="25",
    )
    approved_contribution(member)
    results = race(
        lambda: epoch_close(epoch_id=epoch.pk, actor=steward),
        lambda: epoch_close(epoch_id=epoch.pk, actor=other),
    )
    refused = [r for r in results if isinstance(r, DomainError)]
    assert len(refused) == 1 and refused[0].code == "already_closed"
    assert LedgerTransaction.objects.filter(source="epoch").count() == 1
    assert Allocation.objects.filter(epoch=epoch).count() == 1
    assert contributor_balance(contributor=contributor_for(member), currency=usd()) == Decimal("25")
