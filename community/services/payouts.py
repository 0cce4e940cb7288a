"""Payout workflow: draft → approved → paid / rejected / cancelled."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from community.models import (
    AccountKind,
    Contributor,
    Currency,
    Payout,
    PayoutApproval,
    PayoutStatus,
)
from community.models.ledger import TransactionSource
from community.services.contributions import contributor_for
from community.services.ledger import account_get, contributor_balance, ledger_post
from community.services.money import currency_get, money_parse
from portal.api.errors import DomainError
from portal.audit import audit_record

OPEN_STATUSES = (PayoutStatus.DRAFT, PayoutStatus.APPROVED)


def payout_available(*, contributor: Contributor, currency: Currency) -> Decimal:
    """Balance minus what open payout requests already reserve."""
    reserved = Payout.objects.filter(
        contributor=contributor, currency=currency, status__in=OPEN_STATUSES
    ).aggregate(total=Sum("amount"))["total"] or Decimal(0)
    return contributor_balance(contributor=contributor, currency=currency) - reserved


@transaction.atomic
def payout_request(*, user: Any, amount: Any, currency: str, note: str = "") -> Payout:
    """A contributor asks to be paid part or all of their balance."""
    money = currency_get(currency)
    value = money_parse(amount, currency=money)
    contributor = contributor_for(user)
    # Serialise a contributor's requests so two cannot both reserve the same balance.
    Contributor.objects.select_for_update().filter(pk=contributor.pk).first()
    if contributor.opt_out_money:
        raise DomainError("you opted out of receiving money", code="opted_out", status_code=409)
    available = payout_available(contributor=contributor, currency=money)
    if value > available:
        raise DomainError(
            f"payout above balance: {available} {money.code} available",
            code="insufficient_balance",
            status_code=409,
            fields={"amount": [f"at most {available}"]},
        )
    payout = Payout.objects.create(
        contributor=contributor, currency=money, amount=value, requested_by=user, note=note[:500]
    )
    audit_record(
        actor=user,
        action="payout.request",
        obj=payout,
        detail={"amount": str(value), "currency": money.code},
    )
    return payout


def _locked(payout_id: int) -> Payout:
    payout = (
        Payout.objects.select_for_update(of=("self",))
        .select_related("currency", "contributor")
        .filter(pk=payout_id)
        .first()
    )
    if payout is None:
        raise DomainError("no such payout", code="not_found", status_code=404)
    return payout


def approvals_needed(payout: Payout) -> int:
    threshold = payout.currency.dual_approval_threshold
    return 2 if threshold is not None and payout.amount > threshold else 1


def _require_steward(user: Any, payout: Payout) -> None:
    if not user.is_steward:
        raise DomainError("only stewards decide payouts", code="forbidden", status_code=403)
    if user.pk in (payout.requested_by_id, payout.contributor.user_id):
        raise DomainError(
            "you cannot decide your own payout", code="self_approval", status_code=403
        )


@transaction.atomic
def payout_approve(*, payout_id: int, steward: Any) -> Payout:
    """Add a steward's approval; above the currency's threshold two different ones."""
    payout = _locked(payout_id)
    _require_steward(steward, payout)
    if payout.status != PayoutStatus.DRAFT:
        raise DomainError(
            f"payout is {payout.status}, not awaiting approval", code="not_draft", status_code=409
        )
    if payout.approvals.filter(steward=steward).exists():
        raise DomainError(
            "you already approved this payout", code="double_approval", status_code=409
        )
    try:
        with transaction.atomic():
            PayoutApproval.objects.create(payout=payout, steward=steward)
    except IntegrityError:
        raise DomainError(
            "you already approved this payout", code="double_approval", status_code=409
        ) from None
    count = payout.approvals.count()
    if count >= approvals_needed(payout):
        payout.status = PayoutStatus.APPROVED
        payout.decided_at = timezone.now()
        payout.save(update_fields=["status", "decided_at"])
    audit_record(
        actor=steward,
        action="payout.approve",
        obj=payout,
        detail={"approvals": count, "needed": approvals_needed(payout), "status": payout.status},
    )
    return payout


@transaction.atomic
def payout_pay(*, payout_id: int, steward: Any) -> Payout:
    """Mark an approved payout paid: posts contributor → payouts once."""
    payout = _locked(payout_id)
    _require_steward(steward, payout)
    if payout.status == PayoutStatus.PAID:
        raise DomainError("payout already paid", code="already_paid", status_code=409)
    if payout.status != PayoutStatus.APPROVED:
        raise DomainError(
            f"payout is {payout.status}; only approved payouts can be paid",
            code="not_approved",
            status_code=409,
        )
    source = account_get(
        kind=AccountKind.CONTRIBUTOR, currency=payout.currency, contributor=payout.contributor
    )
    target = account_get(kind=AccountKind.PAYOUTS, currency=payout.currency)
    tx = ledger_post(
        entries=[(source, -payout.amount), (target, payout.amount)],
        idempotency_key=f"payout:{payout.pk}",
        source=TransactionSource.PAYOUT,
        source_id=payout.pk,
        memo=f"payout {payout.pk} to contributor {payout.contributor_id}",
        actor=steward,
        audit=False,  # the payout.pay audit entry names the transaction
    )
    payout.status = PayoutStatus.PAID
    payout.transaction = tx
    payout.paid_at = timezone.now()
    payout.save(update_fields=["status", "transaction", "paid_at"])
    audit_record(
        actor=steward,
        action="payout.pay",
        obj=payout,
        detail={"amount": str(payout.amount), "transaction": tx.pk},
    )
    return payout


@transaction.atomic
def payout_reject(*, payout_id: int, steward: Any, reason: str) -> Payout:
    payout = _locked(payout_id)
    _require_steward(steward, payout)
    if payout.status not in OPEN_STATUSES:
        raise DomainError(f"payout is {payout.status}", code="not_open", status_code=409)
    if not reason.strip():
        raise DomainError("give a reason", code="reason_required", fields={"reason": ["required"]})
    payout.status = PayoutStatus.REJECTED
    payout.reason = reason.strip()[:500]
    payout.decided_at = timezone.now()
    payout.save(update_fields=["status", "reason", "decided_at"])
    audit_record(actor=steward, action="payout.reject", obj=payout, detail={"reason": reason})
    return payout


@transaction.atomic
def payout_cancel(*, payout_id: int, user: Any) -> Payout:
    payout = _locked(payout_id)
    if payout.requested_by_id != user.pk:
        raise DomainError(
            "only the requester can cancel a payout", code="forbidden", status_code=403
        )
    if payout.status not in OPEN_STATUSES:
        raise DomainError(f"payout is {payout.status}", code="not_open", status_code=409)
    payout.status = PayoutStatus.CANCELLED
    payout.decided_at = timezone.now()
    payout.save(update_fields=["status", "decided_at"])
    audit_record(actor=user, action="payout.cancel", obj=payout)
    return payout


@transaction.atomic
def payout_threshold_set(*, steward: Any, currency: str, threshold: Any) -> Currency:
    """Above this amount a payout needs two different stewards (None: never)."""
    if not steward.is_steward:
        raise DomainError("only stewards set payout thresholds", code="forbidden", status_code=403)
    money = currency_get(currency)
    value = (
        None
        if threshold in (None, "")
        else money_parse(threshold, currency=money, field="threshold", allow_zero=True)
    )
    money.dual_approval_threshold = value
    money.save(update_fields=["dual_approval_threshold"])
    audit_record(
        actor=steward,
        action="payout.threshold",
        obj=money,
        detail={"currency": money.code, "threshold": str(value)},
    )
    return money
