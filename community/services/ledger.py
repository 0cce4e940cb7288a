"""Posting to the double-entry ledger. The only code that writes entries."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any, NamedTuple

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
from community.services.bulk_sql import id_in, rows_insert
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


class AccountRef(NamedTuple):
    """An account known by id, enough to post to it (no model instance per row)."""

    pk: int
    kind: str
    currency_id: str
    contributor_id: int | None = None

    def __str__(self) -> str:
        if self.contributor_id:
            return f"contributor:{self.contributor_id}:{self.currency_id}"
        return f"{self.kind}:{self.currency_id}"


def _contributor_account_ids(contributor_ids: Sequence[int], currency: Currency) -> dict[int, int]:
    condition, params = id_in("contributor_id", contributor_ids)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT contributor_id, id FROM community_account "  # noqa: S608
            f"WHERE kind = %s AND currency_id = %s AND {condition}",
            [AccountKind.CONTRIBUTOR.value, currency.pk, *params],
        )
        return dict(cursor.fetchall())


def contributor_accounts_get_many(
    *, contributor_ids: Sequence[int], currency: Currency
) -> dict[int, AccountRef]:
    """Contributor accounts in bulk, created (with a zero cached balance) where missing.

    Epoch close touches thousands at once: a handful of set-based statements.
    """
    wanted = list(dict.fromkeys(contributor_ids))
    ids = _contributor_account_ids(wanted, currency)
    missing = [cid for cid in wanted if cid not in ids]
    if missing:
        now = timezone.now()
        rows_insert(
            model=Account,
            columns=("kind", "currency_id", "contributor_id", "created_at"),
            rows=[(AccountKind.CONTRIBUTOR.value, currency.pk, cid, now) for cid in missing],
            ignore_conflicts=True,  # another posting may create one concurrently
        )
        created = _contributor_account_ids(missing, currency)
        rows_insert(
            model=AccountBalance,
            columns=("account_id", "balance", "updated_at"),
            rows=[(aid, Decimal(0), now) for aid in created.values()],
            ignore_conflicts=True,
        )
        ids.update(created)
    code = str(currency.pk)
    return {
        cid: AccountRef(aid, AccountKind.CONTRIBUTOR.value, code, cid) for cid, aid in ids.items()
    }


_CURRENCY_CACHE: dict[str, Currency] = {}


def _currencies(codes: set[str]) -> dict[str, Currency]:
    """Currencies by code; cached per process (code and exponent never change)."""
    missing = codes - set(_CURRENCY_CACHE)
    if missing:
        for currency in Currency.objects.filter(code__in=missing):
            _CURRENCY_CACHE[currency.code] = currency
    return {code: _CURRENCY_CACHE[code] for code in codes}


def _balances_lock(account_ids: list[int]) -> dict[int, Decimal]:
    """Lock cached balances in id order (no deadlocks between concurrent postings)."""
    if connection.vendor != "postgresql":
        return dict(
            AccountBalance.objects.select_for_update()
            .filter(account_id__in=account_ids)
            .order_by("account_id")
            .values_list("account_id", "balance")
        )
    # One array parameter instead of thousands: epoch close locks every recipient.
    condition, params = id_in("account_id", account_ids)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT account_id, balance FROM community_accountbalance "  # noqa: S608
            f"WHERE {condition} ORDER BY account_id FOR UPDATE",
            params,
        )
        return dict(cursor.fetchall())


def _validate(legs: Sequence[tuple[Account | AccountRef, Decimal]]) -> None:
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
    entries: Sequence[tuple[Account | AccountRef, Decimal]],
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
    entries: Sequence[tuple[Account | AccountRef, Decimal]],
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
    by_id: dict[int, Account | AccountRef] = {}
    for account, amount in legs:
        deltas[account.pk] += amount
        by_id[account.pk] = account
    # Lock cached balances in id order so concurrent postings cannot deadlock.
    balances = _balances_lock(sorted(deltas))
    for account_id in deltas:
        if account_id not in balances:
            AccountBalance.objects.create(account_id=account_id, balance=Decimal(0))
            balances[account_id] = Decimal(0)
    for account_id, delta in deltas.items():
        account = by_id[account_id]
        new_balance = balances[account_id] + delta
        if new_balance < 0 and account.kind in NON_NEGATIVE_KINDS:
            raise DomainError(
                f"insufficient balance: {account} holds {balances[account_id]} "
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
    rows_insert(
        model=Entry,
        columns=("transaction_id", "account_id", "currency_id", "amount"),
        rows=[(tx.pk, account.pk, account.currency_id, amount) for account, amount in legs],
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
