from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from community.health import ledger_health
from community.models import AccountBalance, AccountKind, Entry, LedgerTransaction
from community.services.contributions import contributor_for
from community.services.ledger import (
    account_get,
    contributor_balance,
    contributor_grant,
    ledger_post,
    ledger_reverse,
    pool_fund,
)
from community.services.money import money_parse
from portal.api.errors import DomainError
from tests.community.factories import usd

pytestmark = pytest.mark.django_db


def test_money_parse_refuses_bad_amounts():
    currency = usd()
    assert money_parse("12.5", currency=currency) == Decimal("12.50")
    with pytest.raises(DomainError) as negative:
        money_parse("-1", currency=currency)
    assert negative.value.code == "negative_amount"
    with pytest.raises(DomainError) as decimals:
        money_parse("1.001", currency=currency)
    assert decimals.value.code == "too_many_decimals"
    with pytest.raises(DomainError) as text:
        money_parse("ten", currency=currency)
    assert text.value.code == "invalid_amount"
    with pytest.raises(DomainError):
        money_parse(1.5, currency=currency)
    with pytest.raises(DomainError):
        money_parse("NaN", currency=currency)


def test_post_balanced_transaction_updates_cached_balances(member):
    currency = usd()
    pool_fund(currency=currency, amount=Decimal("100.00"), actor=None, idempotency_key="f1")
    contributor = contributor_for(member)
    contributor_grant(
        contributor=contributor,
        currency=currency,
        amount=Decimal("40.25"),
        actor=None,
        idempotency_key="g1",
    )
    assert contributor_balance(contributor=contributor, currency=currency) == Decimal("40.25")
    pool = account_get(kind=AccountKind.POOL, currency=currency)
    assert AccountBalance.objects.get(account=pool).balance == Decimal("59.75")
    assert ledger_health().ok


def test_idempotency_key_posts_once():
    currency = usd()
    first = pool_fund(currency=currency, amount=Decimal("5"), actor=None, idempotency_key="same")
    second = pool_fund(currency=currency, amount=Decimal("5"), actor=None, idempotency_key="same")
    assert first.pk == second.pk
    assert LedgerTransaction.objects.count() == 1
    pool = account_get(kind=AccountKind.POOL, currency=currency)
    assert AccountBalance.objects.get(account=pool).balance == Decimal("5")


def test_unbalanced_or_single_entry_transaction_refused():
    currency = usd()
    pool = account_get(kind=AccountKind.POOL, currency=currency)
    external = account_get(kind=AccountKind.EXTERNAL, currency=currency)
    with pytest.raises(DomainError) as unbalanced:
        ledger_post(
            entries=[(external, Decimal("-5")), (pool, Decimal("4"))],
            idempotency_key="u",
            source="funding",
        )
    assert unbalanced.value.code == "unbalanced_transaction"
    with pytest.raises(DomainError):
        ledger_post(entries=[(pool, Decimal("0"))], idempotency_key="one", source="funding")
    with pytest.raises(DomainError) as decimals:
        ledger_post(
            entries=[(external, Decimal("-0.001")), (pool, Decimal("0.001"))],
            idempotency_key="d",
            source="funding",
        )
    assert decimals.value.code == "too_many_decimals"
    assert not LedgerTransaction.objects.exists()


def test_contributor_balance_cannot_go_negative(member):
    currency = usd()
    contributor = contributor_for(member)
    with pytest.raises(DomainError) as exc:
        contributor_grant(
            contributor=contributor,
            currency=currency,
            amount=Decimal("1"),
            actor=None,
            idempotency_key="g",
        )
    assert exc.value.code == "insufficient_balance"
    assert not Entry.objects.exists()


def test_correction_reverses_exactly_once(member):
    currency = usd()
    pool_fund(currency=currency, amount=Decimal("10"), actor=None, idempotency_key="f")
    contributor = contributor_for(member)
    grant = contributor_grant(
        contributor=contributor,
        currency=currency,
        amount=Decimal("3"),
        actor=None,
        idempotency_key="g",
    )
    reversal = ledger_reverse(tx=grant, actor=None)
    assert reversal.reverses_id == grant.pk
    assert contributor_balance(contributor=contributor, currency=currency) == 0
    with pytest.raises(DomainError) as again:
        ledger_reverse(tx=grant, actor=None)
    assert again.value.code == "already_reversed"
    assert ledger_health().ok


def test_entries_and_transactions_cannot_be_updated_in_the_database():
    currency = usd()
    tx = pool_fund(currency=currency, amount=Decimal("10"), actor=None, idempotency_key="f")
    with pytest.raises(DatabaseError), transaction.atomic():
        Entry.objects.filter(transaction=tx).update(amount=Decimal("11"))
    with pytest.raises(DatabaseError), transaction.atomic():
        LedgerTransaction.objects.filter(pk=tx.pk).update(memo="edited")
    assert Entry.objects.get(transaction=tx, amount__gt=0).amount == Decimal("10")


@pytest.mark.skipif(connection.vendor != "postgresql", reason="DELETE trigger is PostgreSQL-only")
def test_entries_cannot_be_deleted_on_postgresql():
    currency = usd()
    tx = pool_fund(currency=currency, amount=Decimal("10"), actor=None, idempotency_key="f")
    with pytest.raises(DatabaseError), transaction.atomic():
        Entry.objects.filter(transaction=tx).delete()
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM community_ledgertransaction WHERE id = %s", [tx.pk])
    assert Entry.objects.filter(transaction=tx).count() == 2


def test_health_detects_tampered_cached_balance(capsys):
    currency = usd()
    pool_fund(currency=currency, amount=Decimal("10"), actor=None, idempotency_key="f")
    AccountBalance.objects.filter(account__kind=AccountKind.POOL).update(balance=Decimal("9"))
    report = ledger_health()
    assert not report.ok
    failed = [c.name for c in report.checks if not c.ok]
    assert failed == ["cached balances equal recomputed"]
    with pytest.raises(SystemExit) as exited:
        call_command("ledger_health")
    assert exited.value.code == 1
    assert "VIOLATIONS FOUND" in capsys.readouterr().out


def test_ledger_health_command_passes_on_clean_books(capsys):
    currency = usd()
    pool_fund(currency=currency, amount=Decimal("10"), actor=None, idempotency_key="f")
    call_command("ledger_health")
    out = capsys.readouterr().out
    assert "healthy" in out
    assert "audit chain intact" in out


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="deferred trigger is PostgreSQL-only")
def test_database_refuses_to_commit_an_unbalanced_transaction():
    currency = usd()
    pool = account_get(kind=AccountKind.POOL, currency=currency)
    external = account_get(kind=AccountKind.EXTERNAL, currency=currency)
    with pytest.raises(DatabaseError, match="does not balance"), transaction.atomic():
        tx = LedgerTransaction.objects.create(idempotency_key="raw", source="funding")
        Entry.objects.create(
            transaction=tx, account=external, currency=currency, amount=Decimal("-5")
        )
        Entry.objects.create(transaction=tx, account=pool, currency=currency, amount=Decimal("4"))
    with pytest.raises(DatabaseError, match="at least 2"), transaction.atomic():
        LedgerTransaction.objects.create(idempotency_key="lonely", source="funding")
    assert not LedgerTransaction.objects.exists()
    pool_fund(currency=currency, amount=Decimal("5"), actor=None, idempotency_key="ok")
    assert LedgerTransaction.objects.count() == 1


def test_health_detects_an_entry_in_another_currency_than_its_account():
    currency = usd()
    tx = pool_fund(currency=currency, amount=Decimal("10"), actor=None, idempotency_key="f")
    entry = Entry.objects.filter(transaction=tx, amount__gt=0).first()
    # Written past the ledger service (which refuses it): a EUR leg on a USD account.
    Entry.objects.create(
        transaction=tx, account=entry.account, currency_id="EUR", amount=Decimal("1")
    )
    Entry.objects.create(
        transaction=tx, account=entry.account, currency_id="EUR", amount=Decimal("-1")
    )
    report = ledger_health()
    orphan = next(c for c in report.checks if c.name == "no orphan entries")
    assert not orphan.ok
    assert orphan.examples == [
        f"2 entries point at account {entry.account_id}, missing or in another currency"
    ]
