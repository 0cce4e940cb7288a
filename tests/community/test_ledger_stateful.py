"""Random sequences of ledger operations keep every invariant of the books.

Each example runs inside a savepoint of the test's transaction (rolled back at teardown)
so thousands of operations fit in the suite's time budget on PostgreSQL.
"""

from __future__ import annotations

import os
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from community.defaults import defaults_ensure
from community.health import ledger_health
from community.models import (
    AccountBalance,
    AccountKind,
    Allocation,
    Contribution,
    ContributionStatus,
    ContributionType,
    Currency,
    Epoch,
    LedgerTransaction,
)
from community.services.contributions import contributor_for
from community.services.epochs import epoch_close, epoch_open
from community.services.ledger import account_get, contributor_grant, ledger_reverse, pool_fund
from community.services.payouts import payout_approve, payout_pay, payout_request
from portal.api.errors import DomainError
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

# Two budgets over the same rules and invariants. The suite runs the full one (10,000+
# operations, a few minutes); ``COMMUNITY_LEDGER_RUN=quick`` is for local loops while
# working on the ledger (800+ operations, seconds):
#   COMMUNITY_LEDGER_RUN=quick make test PYTEST_ARGS="tests/community/test_ledger_stateful.py"
RUNS = {
    "quick": {"examples": 20, "steps": 50, "min_operations": 800},
    "full": {"examples": 68, "steps": 150, "min_operations": 10_000},
}
RUN = RUNS[os.environ.get("COMMUNITY_LEDGER_RUN", "full")]
EXAMPLES = int(os.environ.get("COMMUNITY_STATEFUL_EXAMPLES", RUN["examples"]))
MIN_OPERATIONS = RUN["min_operations"] if RUN["examples"] <= EXAMPLES else 0
amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("500"), places=2)
STATE: dict = {}


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.savepoint = transaction.savepoint()
        self.currency: Currency = STATE["currency"]
        self.users = STATE["users"]
        self.stewards = STATE["stewards"]
        self.contributors = STATE["contributors"]
        self.code = STATE["code_type"]
        self.pool = Decimal(0)
        self.balances = {c.pk: Decimal(0) for c in self.contributors}
        self.paid_out = Decimal(0)
        self.reversible: list[tuple[int, dict[int, Decimal], Decimal]] = []
        self.epochs = 0
        self.keys = 0

    def teardown(self) -> None:
        try:
            report = ledger_health()
            assert report.ok, report.as_text()
        finally:
            transaction.savepoint_rollback(self.savepoint)

    def _key(self) -> str:
        self.keys += 1
        return f"k{self.keys}"

    def _count(self) -> None:
        STATE["operations"] += 1

    @rule(amount=amounts)
    def fund(self, amount: Decimal) -> None:
        self._count()
        pool_fund(currency=self.currency, amount=amount, actor=None, idempotency_key=self._key())
        self.pool += amount

    @rule(index=st.integers(0, 3), amount=amounts)
    def grant(self, index: int, amount: Decimal) -> None:
        self._count()
        contributor = self.contributors[index]
        try:
            tx = contributor_grant(
                contributor=contributor,
                currency=self.currency,
                amount=amount,
                actor=None,
                idempotency_key=self._key(),
            )
        except DomainError as exc:
            assert exc.code == "insufficient_balance"
            assert amount > self.pool
            return
        assert amount <= self.pool
        self.pool -= amount
        self.balances[contributor.pk] += amount
        self.reversible.append((tx.pk, {contributor.pk: amount}, -amount))

    @rule(workers=st.lists(st.integers(0, 3), max_size=4), pool=amounts)
    def close_epoch(self, workers: list[int], pool: Decimal) -> None:
        self._count()
        self.epochs += 1
        start = timezone.now() - timedelta(days=3650 - self.epochs)
        epoch = epoch_open(
            actor=None,
            name=f"e{self.epochs}",
            starts_at=start,
            ends_at=start + timedelta(days=1),
            currency="USD",
            pool_amount=str(pool),
        )
        for index in workers:
            Contribution.objects.create(
                contributor=self.contributors[index],
                type=self.code,
                title="work",
                status=ContributionStatus.APPROVED,
                approved_at=start + timedelta(hours=1),
            )
        eligible = {self.contributors[i].pk for i in workers} - {self.contributors[3].pk}
        try:
            epoch_close(epoch_id=epoch.pk)
        except DomainError as exc:
            assert exc.code == "pool_underfunded"
            assert eligible and pool > self.pool
            Epoch.objects.filter(pk=epoch.pk).update(status="closed")  # skip it from now on
            Contribution.objects.filter(epoch__isnull=True).update(status="rejected")
            return
        allocations = dict(
            Allocation.objects.filter(epoch=epoch).values_list("contributor_id", "amount")
        )
        total = sum(allocations.values(), Decimal(0))
        assert total == (pool if eligible else 0)  # the pool is split exactly
        assert allocations.get(self.contributors[3].pk, Decimal(0)) == 0  # opted out of money
        self.pool -= total
        for cid, amount in allocations.items():
            self.balances[cid] += amount
        epoch.refresh_from_db()
        if epoch.transaction_id:
            self.reversible.append(
                (epoch.transaction_id, {c: a for c, a in allocations.items() if a}, -total)
            )

    @rule(index=st.integers(0, 3), amount=amounts)
    def payout(self, index: int, amount: Decimal) -> None:
        self._count()
        contributor = self.contributors[index]
        try:
            payout = payout_request(user=self.users[index], amount=str(amount), currency="USD")
        except DomainError as exc:
            assert exc.code in ("insufficient_balance", "opted_out")
            assert amount > self.balances[contributor.pk] or contributor.opt_out_money
            return
        payout_approve(payout_id=payout.pk, steward=self.stewards[0])
        payout_pay(payout_id=payout.pk, steward=self.stewards[1])
        self.balances[contributor.pk] -= amount
        self.paid_out += amount

    @rule(choice=st.integers(0, 1000))
    def correct(self, choice: int) -> None:
        self._count()
        if not self.reversible:
            return
        tx_id, credits, pool_delta = self.reversible[choice % len(self.reversible)]
        can = all(self.balances[c] >= a for c, a in credits.items())
        try:
            ledger_reverse(tx=LedgerTransaction.objects.get(pk=tx_id), actor=None)
        except DomainError as exc:
            assert exc.code == "insufficient_balance" and not can
            return
        assert can
        self.reversible.remove((tx_id, credits, pool_delta))
        for cid, amount in credits.items():
            self.balances[cid] -= amount
        self.pool -= pool_delta

    @invariant()
    def cached_balances_match_the_model(self) -> None:
        cached = {
            (kind, cid): balance
            for kind, cid, balance in AccountBalance.objects.filter(
                account__currency=self.currency
            ).values_list("account__kind", "account__contributor_id", "balance")
        }
        assert cached.get((AccountKind.POOL, None), Decimal(0)) == self.pool
        assert cached.get((AccountKind.PAYOUTS, None), Decimal(0)) == self.paid_out
        for cid, expected in self.balances.items():
            assert cached.get((AccountKind.CONTRIBUTOR, cid), Decimal(0)) == expected
            assert expected >= 0


@pytest.mark.timeout(1800)
def test_random_ledger_operations_keep_every_invariant():
    defaults_ensure()
    users = [UserFactory(role="member") for _ in range(4)]
    contributors = [contributor_for(user) for user in users]
    usd = Currency.objects.get(code="USD")
    # Accounts outlive the per-example savepoints, so examples do not recreate them.
    for kind in (AccountKind.POOL, AccountKind.EXTERNAL, AccountKind.PAYOUTS):
        account_get(kind=kind, currency=usd)
    for contributor in contributors:
        account_get(kind=AccountKind.CONTRIBUTOR, currency=usd, contributor=contributor)
    contributors[3].opt_out_money = True
    contributors[3].save()
    STATE.update(
        currency=Currency.objects.get(code="USD"),
        users=users,
        contributors=contributors,
        stewards=[UserFactory(role="steward"), UserFactory(role="steward")],
        code_type=ContributionType.objects.get(slug="code"),
        operations=0,
    )
    run_state_machine_as_test(
        LedgerMachine,
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=RUN["steps"],
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        ),
    )
    print(f"ledger state machine: {STATE['operations']} operations")
    assert STATE["operations"] >= MIN_OPERATIONS
