from __future__ import annotations

from decimal import Decimal

import pytest

from community.models import LedgerTransaction, Payout, PayoutStatus
from community.services.contributions import contributor_for
from community.services.ledger import contributor_balance, contributor_grant
from community.services.payouts import (
    payout_approve,
    payout_cancel,
    payout_pay,
    payout_reject,
    payout_request,
    payout_threshold_set,
)
from portal.api.errors import DomainError
from tests.community.factories import fund, usd
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def give(user, amount: str) -> None:
    fund("10000", key=f"fund-for-{user.pk}-{amount}")
    contributor_grant(
        contributor=contributor_for(user),
        currency=usd(),
        amount=Decimal(amount),
        actor=None,
        idempotency_key=f"grant-{user.pk}-{amount}",
    )


def test_request_approve_pay_posts_ledger_once(member, steward):
    give(member, "50")
    payout = payout_request(user=member, amount="20.00", currency="USD")
    assert payout.status == PayoutStatus.DRAFT
    payout_approve(payout_id=payout.pk, steward=steward)
    payout = payout_pay(payout_id=payout.pk, steward=steward)
    assert payout.status == PayoutStatus.PAID and payout.transaction_id
    assert contributor_balance(contributor=contributor_for(member), currency=usd()) == Decimal("30")
    with pytest.raises(DomainError) as again:
        payout_pay(payout_id=payout.pk, steward=steward)
    assert again.value.code == "already_paid"
    assert LedgerTransaction.objects.filter(source="payout").count() == 1


def test_payout_above_balance_refused_including_open_requests(member):
    give(member, "50")
    with pytest.raises(DomainError) as above:
        payout_request(user=member, amount="50.01", currency="USD")
    assert above.value.code == "insufficient_balance" and above.value.status_code == 409
    payout_request(user=member, amount="30", currency="USD")
    with pytest.raises(DomainError):
        payout_request(user=member, amount="20.01", currency="USD")  # 30 already reserved
    assert Payout.objects.count() == 1


@pytest.mark.parametrize(
    ("amount", "code"),
    [
        ("-5", "negative_amount"),
        ("1.234", "too_many_decimals"),
        ("abc", "invalid_amount"),
        ("0", "invalid_amount"),
    ],
)
def test_bad_amounts_refused(member, amount, code):
    give(member, "50")
    with pytest.raises(DomainError) as exc:
        payout_request(user=member, amount=amount, currency="USD")
    assert exc.value.code == code
    assert not Payout.objects.exists()


def test_requester_cannot_approve_own_payout():
    steward = UserFactory(role="steward")
    give(steward, "10")
    payout = payout_request(user=steward, amount="5", currency="USD")
    with pytest.raises(DomainError) as exc:
        payout_approve(payout_id=payout.pk, steward=steward)
    assert exc.value.code == "self_approval"


def test_members_cannot_approve(member, other_member):
    give(member, "10")
    payout = payout_request(user=member, amount="5", currency="USD")
    with pytest.raises(DomainError) as exc:
        payout_approve(payout_id=payout.pk, steward=other_member)
    assert exc.value.status_code == 403


def test_above_threshold_needs_two_different_stewards(member, steward):
    payout_threshold_set(steward=steward, currency="USD", threshold="100")
    give(member, "500")
    payout = payout_request(user=member, amount="150", currency="USD")
    payout_approve(payout_id=payout.pk, steward=steward)
    payout.refresh_from_db()
    assert payout.status == PayoutStatus.DRAFT
    with pytest.raises(DomainError) as double:
        payout_approve(payout_id=payout.pk, steward=steward)
    assert double.value.code == "double_approval"
    with pytest.raises(DomainError) as early:
        payout_pay(payout_id=payout.pk, steward=steward)
    assert early.value.code == "not_approved"
    payout_approve(payout_id=payout.pk, steward=UserFactory(role="steward"))
    payout.refresh_from_db()
    assert payout.status == PayoutStatus.APPROVED
    small = payout_request(user=member, amount="100", currency="USD")
    assert payout_approve(payout_id=small.pk, steward=steward).status == PayoutStatus.APPROVED


def test_reject_and_cancel(member, other_member, steward):
    give(member, "50")
    first = payout_request(user=member, amount="10", currency="USD")
    with pytest.raises(DomainError):
        payout_reject(payout_id=first.pk, steward=steward, reason="")
    payout_reject(payout_id=first.pk, steward=steward, reason="missing invoice")
    second = payout_request(user=member, amount="10", currency="USD")
    with pytest.raises(DomainError) as not_yours:
        payout_cancel(payout_id=second.pk, user=other_member)
    assert not_yours.value.status_code == 403
    assert payout_cancel(payout_id=second.pk, user=member).status == PayoutStatus.CANCELLED
