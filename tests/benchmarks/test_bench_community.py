"""Community benchmarks (`make bench`), each printing its figures.

1. Epoch close for 10,000 contributors and 200,000 approved contributions: wall time
   and peak memory (targets < 10 s, < 500 MB); the allocation must sum exactly to the pool.
   Baseline in the same run: reading the same 200,000 rows once.
2. ``ledger_health`` over 1,000,000 entries (500,000 balanced transactions, bulk-loaded
   with COPY) on PostgreSQL (target < 5 s). Baseline: one COUNT(*) over the entries.

Every target is asserted, whatever the machine's load; the load average is printed with
the figures so they can be read in context.
"""

from __future__ import annotations

import io
import os
import resource
import time
import tracemalloc
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.hashers import make_password
from django.db import connection
from django.utils import timezone

from community.defaults import defaults_ensure
from community.health import ledger_health
from community.models import (
    Account,
    AccountBalance,
    AccountKind,
    Allocation,
    Contribution,
    ContributionStatus,
    ContributionType,
    Contributor,
    Currency,
    Epoch,
)
from community.services.epochs import epoch_allocation_compute, epoch_close, epoch_open
from community.services.ledger import pool_fund
from portal.models import User

N_CONTRIBUTORS = int(os.environ.get("BENCH_COMMUNITY_CONTRIBUTORS", "10000"))
N_CONTRIBUTIONS = int(os.environ.get("BENCH_COMMUNITY_CONTRIBUTIONS", "200000"))
N_ENTRIES = int(os.environ.get("BENCH_COMMUNITY_ENTRIES", "1000000"))
POOL = Decimal("123456.78")

pytestmark = pytest.mark.django_db


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} cores"


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _contributors(n: int) -> list[int]:
    password = make_password(None)
    User.objects.bulk_create(
        [
            User(username=f"bench{i}", email=f"bench{i}@example.org", password=password)
            for i in range(n)
        ],
        batch_size=5000,
    )
    users = list(User.objects.filter(username__startswith="bench").values_list("id", flat=True))
    Contributor.objects.bulk_create([Contributor(user_id=uid) for uid in users], batch_size=5000)
    return list(Contributor.objects.values_list("id", flat=True))


# Committed like real data: the close is timed with its own commit (deferred constraint
# checks included), and rows inserted by the same transaction would cost extra checks
# that rows committed long before the close never do.
@pytest.mark.django_db(transaction=True)
def test_epoch_close_10k_contributors_200k_contributions():
    defaults_ensure()
    started = time.perf_counter()
    contributor_ids = _contributors(N_CONTRIBUTORS)
    types = list(ContributionType.objects.values_list("id", flat=True))
    now = timezone.now()
    epoch = epoch_open(
        actor=None,
        name="bench",
        starts_at=now - timedelta(days=30),
        ends_at=now + timedelta(days=1),
        currency="USD",
        pool_amount=str(POOL),
    )
    efforts = ("small", "medium", "large")
    batch: list[Contribution] = []
    for i in range(N_CONTRIBUTIONS):
        batch.append(
            Contribution(
                contributor_id=contributor_ids[(i * 7919) % len(contributor_ids)],
                type_id=types[i % len(types)],
                title="bench",
                effort=efforts[i % 3],
                status=ContributionStatus.APPROVED,
                approved_at=now - timedelta(minutes=i % 9000),
            )
        )
        if len(batch) == 10_000:
            Contribution.objects.bulk_create(batch)
            batch = []
    if batch:
        Contribution.objects.bulk_create(batch)
    pool_fund(
        currency=Currency.objects.get(code="USD"),
        amount=POOL,
        actor=None,
        idempotency_key="bench-funding",
    )
    print(
        f"\n[community] loaded {N_CONTRIBUTORS} contributors, {N_CONTRIBUTIONS} "
        f"contributions in {time.perf_counter() - started:.1f}s"
    )

    t0 = time.perf_counter()
    rows = list(
        Contribution.objects.filter(status="approved").values_list(
            "id", "contributor_id", "type__slug", "type__category", "effort"
        )
    )
    baseline = time.perf_counter() - t0
    del rows

    tracemalloc.start()
    t0 = time.perf_counter()
    preview = epoch_allocation_compute(epoch)
    preview_s = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert sum(r.amount for r in preview) == POOL

    rss_before = _rss_mb()
    t0 = time.perf_counter()
    epoch_close(epoch_id=epoch.pk)
    close_s = time.perf_counter() - t0
    rss_after = _rss_mb()

    allocated = sum(Allocation.objects.filter(epoch=epoch).values_list("amount", flat=True))
    recipients = Allocation.objects.filter(epoch=epoch, amount__gt=0).count()
    peak_mb = peak / 1024 / 1024
    print(f"[community] baseline: read {N_CONTRIBUTIONS} rows in {baseline:.2f}s")
    print(f"[community] allocation preview: {preview_s:.2f}s, peak traced memory {peak_mb:.1f} MB")
    print(
        f"[community] epoch close (score, allocate, freeze, post ledger, commit): {close_s:.2f}s "
        f"({close_s / baseline:.1f}x baseline); max RSS {rss_after:.0f} MB "
        f"(before close {rss_before:.0f} MB)"
    )
    print(f"[community] allocated {allocated} of {POOL} USD to {recipients} contributors")
    assert allocated == POOL  # exact, to the cent
    assert Epoch.objects.get(pk=epoch.pk).status == "closed"
    print(f"[community] {_load()}")
    assert peak_mb < 500
    assert rss_after < 500
    assert close_s < 10


def test_ledger_health_over_a_million_entries():
    if connection.vendor != "postgresql":
        pytest.skip("the 1,000,000-entry ledger bench loads with COPY on PostgreSQL")
    defaults_ensure()
    started = time.perf_counter()
    contributor_ids = _contributors(1000)
    usd = Currency.objects.get(code="USD")
    pool = Account.objects.create(kind=AccountKind.POOL, currency=usd)
    external = Account.objects.create(kind=AccountKind.EXTERNAL, currency=usd)
    Account.objects.bulk_create(
        [
            Account(kind=AccountKind.CONTRIBUTOR, currency=usd, contributor_id=cid)
            for cid in contributor_ids
        ]
    )
    accounts = list(
        Account.objects.filter(kind=AccountKind.CONTRIBUTOR).values_list("id", flat=True)
    )
    n_tx = N_ENTRIES // 2
    n_funding = len(accounts)  # enough funding first, then pool → contributor grants
    with connection.cursor() as cursor:
        cursor.execute("SELECT COALESCE(MAX(id), 0) FROM community_ledgertransaction")
        first_tx = cursor.fetchone()[0] + 1
        cursor.execute("SELECT COALESCE(MAX(id), 0) FROM community_entry")
        first_entry = cursor.fetchone()[0] + 1
    balances: dict[int, int] = {pool.pk: 0, external.pk: 0}
    tx_buf, entry_buf = io.StringIO(), io.StringIO()
    created = timezone.now().isoformat()
    entry_id = first_entry
    grant_cents = 1
    funding_cents = (n_tx - n_funding) * grant_cents // n_funding + 1
    for i in range(n_tx):
        tx_id = first_tx + i
        if i < n_funding:
            debit, credit, cents, source = external.pk, pool.pk, funding_cents, "funding"
        else:
            debit, credit, cents, source = (
                pool.pk,
                accounts[i % len(accounts)],
                grant_cents,
                "grant",
            )
        tx_buf.write(f"{tx_id}\tbench-{tx_id}\tbench\t{source}\t\t{created}\n")
        amount = f"{cents / 100:.2f}"
        entry_buf.write(f"{entry_id}\t{tx_id}\t{debit}\tUSD\t-{amount}\n")
        entry_buf.write(f"{entry_id + 1}\t{tx_id}\t{credit}\tUSD\t{amount}\n")
        entry_id += 2
        balances[debit] = balances.get(debit, 0) - cents
        balances[credit] = balances.get(credit, 0) + cents
    raw = connection.connection
    with raw.cursor() as cursor:
        with cursor.copy(
            "COPY community_ledgertransaction (id, idempotency_key, memo, source, "
            "source_id, created_at) FROM STDIN"
        ) as copy:
            copy.write(tx_buf.getvalue())
        with cursor.copy(
            "COPY community_entry (id, transaction_id, account_id, currency_id, amount) FROM STDIN"
        ) as copy:
            copy.write(entry_buf.getvalue())
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence('community_entry', 'id'), %s)", [entry_id]
        )
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence('community_ledgertransaction', 'id'), %s)",
            [first_tx + n_tx],
        )
        cursor.execute("ANALYZE community_entry")
        cursor.execute("ANALYZE community_ledgertransaction")
    AccountBalance.objects.bulk_create(
        [
            AccountBalance(account_id=aid, balance=Decimal(cents) / 100)
            for aid, cents in balances.items()
        ],
        batch_size=5000,
    )
    print(
        f"\n[community] loaded {n_tx} transactions / {n_tx * 2} entries with COPY in "
        f"{time.perf_counter() - started:.1f}s"
    )

    t0 = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*), SUM(amount) FROM community_entry")
        count, total = cursor.fetchone()
    baseline = time.perf_counter() - t0
    assert count >= N_ENTRIES and total == 0

    t0 = time.perf_counter()
    report = ledger_health()
    elapsed = time.perf_counter() - t0
    print(f"[community] baseline: COUNT/SUM over {count} entries in {baseline:.2f}s")
    print(
        f"[community] ledger_health over {report.entries} entries / {report.transactions} "
        f"transactions: {elapsed:.2f}s ({elapsed / max(baseline, 1e-6):.1f}x baseline), "
        f"{'healthy' if report.ok else 'VIOLATIONS'}"
    )
    print(f"[community] {_load()}")
    assert report.ok, report.as_text()
    assert elapsed < 5
