"""The double-entry rewards ledger. Entries and transactions are append-only (DB triggers)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class Currency(models.Model):
    """A unit of account with its minor unit (``exponent`` decimal places)."""

    code = models.CharField(max_length=8, primary_key=True)
    name = models.CharField(max_length=60)
    exponent = models.PositiveSmallIntegerField(default=2)
    dual_approval_threshold = models.DecimalField(
        max_digits=30,
        decimal_places=8,
        null=True,
        blank=True,
        help_text="Payouts above this need two different stewards' approval.",
    )

    class Meta:
        ordering = ["code"]
        verbose_name_plural = "currencies"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(exponent__lte=8), name="community_currency_exponent_max"
            )
        ]

    def __str__(self) -> str:
        return self.code


class AccountKind(models.TextChoices):
    POOL = "pool", "Reward pool"
    CONTRIBUTOR = "contributor", "Contributor balance"
    PAYOUTS = "payouts", "Payouts (paid out)"
    EXTERNAL = "external", "External (funding)"


class Account(models.Model):
    """One account per (kind, currency), and one per contributor and currency."""

    kind = models.CharField(max_length=20, choices=AccountKind.choices)
    currency = models.ForeignKey(Currency, on_delete=models.PROTECT, related_name="+")
    contributor = models.ForeignKey(
        "community.Contributor",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="accounts",
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "currency"],
                condition=models.Q(contributor__isnull=True),
                name="community_account_system_unique",
            ),
            models.UniqueConstraint(
                fields=["contributor", "currency"],
                condition=models.Q(contributor__isnull=False),
                name="community_account_contributor_unique",
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(kind="contributor", contributor__isnull=False)
                    | (~models.Q(kind="contributor") & models.Q(contributor__isnull=True))
                ),
                name="community_account_contributor_kind",
            ),
        ]

    def __str__(self) -> str:
        if self.contributor_id:
            return f"contributor:{self.contributor_id}:{self.currency_id}"
        return f"{self.kind}:{self.currency_id}"


class TransactionSource(models.TextChoices):
    GRANT = "grant", "Grant"
    FUNDING = "funding", "Pool funding"
    EPOCH = "epoch", "Epoch close"
    PAYOUT = "payout", "Payout"
    CORRECTION = "correction", "Correction"


class LedgerTransaction(models.Model):
    """A balanced set of entries. Never updated or deleted; corrections reverse it."""

    idempotency_key = models.CharField(max_length=200, unique=True)
    memo = models.CharField(max_length=500, blank=True)
    source = models.CharField(max_length=20, choices=TransactionSource.choices)
    source_id = models.CharField(max_length=64, blank=True)
    reverses = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversed_by"
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
    )

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"tx#{self.pk} {self.source} {self.memo}"


class Entry(models.Model):
    """One leg of a transaction: a signed amount on an account (positive = credit)."""

    transaction = models.ForeignKey(
        LedgerTransaction, on_delete=models.PROTECT, related_name="entries"
    )
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="entries")
    # Denormalised from the account so the database can check per-currency balance.
    currency = models.ForeignKey(Currency, on_delete=models.PROTECT, related_name="+")
    amount = models.DecimalField(max_digits=30, decimal_places=8)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=~models.Q(amount=0), name="community_entry_nonzero")
        ]

    def __str__(self) -> str:
        return f"{self.account_id} {self.amount}"


class AccountBalance(models.Model):
    """Cached balance per account, maintained in the posting transaction.

    ``ledger_health`` checks it equals the sum of the account's entries.
    """

    account = models.OneToOneField(
        Account, primary_key=True, on_delete=models.PROTECT, related_name="cached_balance"
    )
    balance = models.DecimalField(max_digits=30, decimal_places=8, default=0)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.account_id}: {self.balance}"
