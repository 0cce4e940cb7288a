"""Posting to the double-entry ledger. The only code that writes entries."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from community.models import (
    Account,
    AccountBalance,
    AccountKind,
    Contributor,
    Currency,
    Entry,
    LedgerTransaction,
    TransactionSource,
)
from community.services.money import minor_unit
from portal.api.errors import DomainError
from portal.audit import audit_record

# Accounts whose balance may never go below zero (the outside world's side may).
NON_NEGATIVE_KINDS = {AccountKind.CONTRIBUTOR, AccountKind.POOL, AccountKind.PAYOUTS}


def account_get(
    *, kind: str, currency: Currency, contributor: Contributor | None = None
) -> Account:
    """The account for (kind, currency[, contributor]), created with a zero cached balance."""
    lookup: dict[str, Any] = {"kind": kind, "currency": currency}
    lookup["contributor"] = contributor if kind == AccountKind.CONTRIBUTOR else None
    account = Account.objects.filter(**lookup).first()
    if account is not None:
        return account
    try:
        with transaction.atomic():
            account = Account.objects.create(**lookup)
            AccountBalance.objects.create(account=account, balance=Decimal(0))
            return account
    except IntegrityError:  # created concurrently
        return Account.objects.get(**lookup)


def accounts_get_many(
    *, contributors: Sequence[Contributor], currency: Currency
) -> dict[int, Account]:
    """Contributor accounts in bulk (epoch close touches thousands at once)."""
    ids = [c.pk for c in contributors]
    existing: dict[int, Account] = {
        int(a.contributor_id or 0): a
        for a in Account.objects.filter(
            kind=AccountKind.CONTRIBUTOR, currency=currency, contributor_id__in=ids
        )
    }
    missing = [cid for cid in ids if cid not in existing]
    if missing:
        Account.objects.bulk_create(
            [
                Account(kind=AccountKind.CONTRIBUTOR, currency=currency, contributor_id=cid)
                for cid in missing
            ],
            ignore_conflicts=True,
        )
        created = list(
            Account.objects.filter(
                kind=AccountKind.CONTRIBUTOR, currency=currency, contributor_id__in=missing
            )
        )
        AccountBalance.objects.bulk_create(
            [AccountBalance(account=a, balance=Decimal(0)) for a in created],
            ignore_conflicts=True,
        )
        existing.update({int(a.contributor_id or 0): a for a in created})
    return existing


_CURRENCY_CACHE: dict[str, Currency] = {}


def _currencies(codes: set[str]) -> dict[str, Currency]:
    """Currencies by code; cached per process (code and exponent never change)."""
    missing = codes - set(_CURRENCY_CACHE)
    if missing:
        for currency in Currency.objects.filter(code__in=missing):
            _CURRENCY_CACHE[currency.code] = currency
    return {code: _CURRENCY_CACHE[code] for code in codes}


def _validate(legs: Sequence[tuple[Account, Decimal]]) -> None:
    if len(legs) < 2:
        raise DomainError(
            "a ledger transaction needs at least two entries", code="unbalanced_transaction"
        )
    totals: dict[str, Decimal] = defaultdict(Decimal)
    currencies = _currencies({account.currency_id for account, _ in legs})
    for account, amount in legs:
        if not isinstance(amount, Decimal):
            raise DomainError("ledger amounts must be Decimal", code="invalid_amount")
        currency = currencies[account.currency_id]
        if amount == 0:
            raise DomainError("ledger entries cannot be zero", code="invalid_amount")
        if amount != amount.quantize(minor_unit(currency)):
            raise DomainError(
                f"{amount} has more decimals than {currency.code} allows ({currency.exponent})",
                code="too_many_decimals",
            )
        totals[currency.code] += amount
    for code, total in totals.items():
        if total != 0:
            raise DomainError(
                f"entries in {code} sum to {total}, not zero", code="unbalanced_transaction"
            )


def ledger_post(
    *,
    entries: Sequence[tuple[Account, Decimal]],
    idempotency_key: str,
    source: str,
    memo: str = "",
    source_id: str | int = "",
    actor: Any = None,
    reverses: LedgerTransaction | None = None,
    audit: bool = True,
) -> LedgerTransaction:
    """Post a balanced transaction, once per ``idempotency_key``.

    Re-posting an existing key returns the original transaction and writes nothing.
    Cached balances are updated in the same database transaction; an account kind that
    must stay non-negative refuses the whole posting.
    """
    try:
        return _ledger_post(
            entries=entries,
            idempotency_key=idempotency_key,
            source=source,
            memo=memo,
            source_id=source_id,
            actor=actor,
            reverses=reverses,
            audit=audit,
        )
    except IntegrityError:
        # Lost a race on the same key: the other posting won; ours was rolled back whole.
        raise DomainError(
            "this transaction was already posted", code="duplicate_transaction", status_code=409
        ) from None


@transaction.atomic
def _ledger_post(
    *,
    entries: Sequence[tuple[Account, Decimal]],
    idempotency_key: str,
    source: str,
    memo: str = "",
    source_id: str | int = "",
    actor: Any = None,
    reverses: LedgerTransaction | None = None,
    audit: bool = True,
) -> LedgerTransaction:
    if not idempotency_key:
        raise DomainError("an idempotency key is required", code="idempotency_key_required")
    existing = LedgerTransaction.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        return existing
    legs = [(account, amount) for account, amount in entries]
    _validate(legs)

    deltas: dict[int, Decimal] = defaultdict(Decimal)
    by_id: dict[int, Account] = {}
    for account, amount in legs:
        deltas[account.pk] += amount
        by_id[account.pk] = account
    # Lock cached balances in id order so concurrent postings cannot deadlock.
    balances = {
        b.account_id: b
        for b in AccountBalance.objects.select_for_update()
        .filter(account_id__in=sorted(deltas))
        .order_by("account_id")
    }
    for account_id in deltas:
        if account_id not in balances:
            balances[account_id] = AccountBalance.objects.create(
                account_id=account_id, balance=Decimal(0)
            )
    for account_id, delta in deltas.items():
        account = by_id[account_id]
        new_balance = balances[account_id].balance + delta
        if new_balance < 0 and account.kind in NON_NEGATIVE_KINDS:
            raise DomainError(
                f"insufficient balance: {account} holds {balances[account_id].balance} "
                f"{account.currency_id}, needs {-delta}",
                code="insufficient_balance",
                status_code=409,
            )

    tx = LedgerTransaction.objects.create(
        idempotency_key=idempotency_key,
        memo=memo[:500],
        source=source,
        source_id=str(source_id),
        reverses=reverses,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    Entry.objects.bulk_create(
        [
            Entry(transaction=tx, account=account, currency_id=account.currency_id, amount=amount)
            for account, amount in legs
        ],
        batch_size=2000,
    )
    now = timezone.now()
    _apply_deltas(deltas, now)
    if audit:
        audit_record(
            actor=actor,
            action="ledger.post",
            obj=tx,
            detail={
                "source": source,
                "source_id": str(source_id),
                "memo": memo[:200],
                "entries": len(legs),
                "key": idempotency_key,
            },
        )
    return tx


def _apply_deltas(deltas: dict[int, Decimal], now: Any) -> None:
    if len(deltas) <= 50 or connection.vendor != "postgresql":
        for account_id, delta in deltas.items():
            AccountBalance.objects.filter(account_id=account_id).update(
                balance=F("balance") + delta, updated_at=now
            )
        return
    # One UPDATE … FROM (VALUES …) per chunk: bulk_update's CASE WHEN is quadratic.
    items = list(deltas.items())
    with connection.cursor() as cursor:
        for start in range(0, len(items), 5000):
            chunk = items[start : start + 5000]
            values = ", ".join(["(%s::bigint, %s::numeric)"] * len(chunk))
            params: list[Any] = [v for pair in chunk for v in pair]
            cursor.execute(
                "UPDATE community_accountbalance AS b SET balance = b.balance + d.delta, "  # noqa: S608
                f"updated_at = %s FROM (VALUES {values}) AS d(account_id, delta) "
                "WHERE b.account_id = d.account_id",
                [now, *params],
            )


def account_balance(account: Account) -> Decimal:
    """The cached balance (equal to the sum of entries; ``ledger_health`` checks it)."""
    row = AccountBalance.objects.filter(account=account).first()
    return row.balance if row else Decimal(0)


def contributor_balance(*, contributor: Contributor, currency: Currency) -> Decimal:
    account = Account.objects.filter(
        kind=AccountKind.CONTRIBUTOR, currency=currency, contributor=contributor
    ).first()
    return account_balance(account) if account else Decimal(0)


@transaction.atomic
def ledger_reverse(*, tx: LedgerTransaction, actor: Any, memo: str = "") -> LedgerTransaction:
    """Correct a transaction by posting its exact opposite (once)."""
    if tx.source == TransactionSource.CORRECTION and tx.reverses_id:
        raise DomainError(
            "a reversal cannot itself be reversed; post a new transaction",
            code="not_reversible",
            status_code=409,
        )
    if LedgerTransaction.objects.filter(reverses=tx).exists():
        raise DomainError(
            f"transaction {tx.pk} is already reversed", code="already_reversed", status_code=409
        )
    legs = [(e.account, -e.amount) for e in tx.entries.select_related("account__currency")]
    return ledger_post(
        entries=legs,
        idempotency_key=f"reverse:{tx.pk}",
        source=TransactionSource.CORRECTION,
        source_id=tx.pk,
        memo=memo or f"reversal of transaction {tx.pk}",
        actor=actor,
        reverses=tx,
    )


def pool_fund(
    *, currency: Currency, amount: Decimal, actor: Any, idempotency_key: str, memo: str = ""
) -> LedgerTransaction:
    """Money enters the reward pool from outside (revenue to share, a grant received)."""
    external = account_get(kind=AccountKind.EXTERNAL, currency=currency)
    pool = account_get(kind=AccountKind.POOL, currency=currency)
    return ledger_post(
        entries=[(external, -amount), (pool, amount)],
        idempotency_key=idempotency_key,
        source=TransactionSource.FUNDING,
        memo=memo or "pool funding",
        actor=actor,
    )


def contributor_grant(
    *,
    contributor: Contributor,
    currency: Currency,
    amount: Decimal,
    actor: Any,
    idempotency_key: str,
    memo: str = "",
) -> LedgerTransaction:
    """A steward grants a contributor money from the pool (a bounty, a one-off award)."""
    pool = account_get(kind=AccountKind.POOL, currency=currency)
    target = account_get(kind=AccountKind.CONTRIBUTOR, currency=currency, contributor=contributor)
    return ledger_post(
        entries=[(pool, -amount), (target, amount)],
        idempotency_key=idempotency_key,
        source=TransactionSource.GRANT,
        source_id=contributor.pk,
        memo=memo or "grant",
        actor=actor,
    )


def entries_sum(entries: Iterable[Entry]) -> Decimal:
    return sum((e.amount for e in entries), Decimal(0))
