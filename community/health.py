"""``ledger_health``: every invariant of the books, checked in SQL, with a report."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import connection, transaction

from portal.audit import audit_verify


@dataclass
class HealthCheck:
    name: str
    ok: bool
    detail: str
    examples: list[str] = field(default_factory=list)


@dataclass
class HealthReport:
    checks: list[HealthCheck]
    entries: int
    transactions: int

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    def as_text(self) -> str:
        lines = [f"ledger: {self.transactions} transactions, {self.entries} entries"]
        for check in self.checks:
            mark = "ok  " if check.ok else "FAIL"
            lines.append(f"[{mark}] {check.name}: {check.detail}")
            lines.extend(f"       - {example}" for example in check.examples)
        lines.append("healthy" if self.ok else "VIOLATIONS FOUND")
        return "\n".join(lines)


def _rows(sql: str, limit: int = 5) -> list[tuple[object, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(f"{sql} LIMIT {int(limit) + 1}")
        return list(cursor.fetchall())


def _scalar(sql: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql)
        row = cursor.fetchone()
        return int(row[0] or 0) if row else 0


def _check(name: str, sql: str, describe: str, fmt: str) -> HealthCheck:
    rows = _rows(sql)
    if not rows:
        return HealthCheck(name, True, describe)
    more = "+" if len(rows) > 5 else ""
    examples = [fmt.format(*row) for row in rows[:5]]
    return HealthCheck(name, False, f"{len(rows[:5])}{more} violation(s)", examples)


def ledger_health() -> HealthReport:
    """Run every check; nothing is written.

    On PostgreSQL the checks run in one transaction with enough ``work_mem``
    for the per-transaction aggregates to stay in memory (they spill to disk otherwise).
    ROUND(…, 8) is exact on PostgreSQL (numeric); SQLite sums decimals as floats.
    """
    if connection.vendor != "postgresql":
        return _ledger_health()
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL work_mem = '256MB'")
        report = _ledger_health()
        # Roll back (to the savepoint, inside a caller's transaction): the checks only
        # read, and this undoes SET LOCAL so the caller's settings are untouched.
        transaction.set_rollback(True)
    return report


def _ledger_health() -> HealthReport:
    checks = [
        _check(
            "transactions balance",
            "SELECT transaction_id, currency_id, SUM(amount) FROM community_entry "
            "GROUP BY transaction_id, currency_id HAVING ROUND(SUM(amount), 8) <> 0",
            "every transaction sums to zero per currency",
            "transaction {0}: {1} entries sum to {2}",
        ),
        _check(
            "transactions have two or more entries",
            "SELECT t.id, COUNT(e.id) FROM community_ledgertransaction t "
            "LEFT JOIN community_entry e ON e.transaction_id = t.id "
            "GROUP BY t.id HAVING COUNT(e.id) < 2",
            "every transaction has at least two entries",
            "transaction {0} has {1} entries",
        ),
        _check(
            "no orphan entries",
            # Per (account, currency) first: a thousand groups to join, not a million rows.
            "SELECT 'account', h.account_id, h.n FROM (SELECT account_id, currency_id, "
            "COUNT(*) AS n FROM community_entry GROUP BY account_id, currency_id) h "
            "LEFT JOIN community_account a ON a.id = h.account_id "
            "WHERE a.id IS NULL OR a.currency_id <> h.currency_id "
            "UNION ALL "
            "SELECT 'transaction', e.transaction_id, COUNT(*) FROM community_entry e "
            "WHERE NOT EXISTS (SELECT 1 FROM community_ledgertransaction t "
            "WHERE t.id = e.transaction_id) GROUP BY e.transaction_id",
            "every entry belongs to a transaction and an account in its currency",
            "{2} entries point at {0} {1}, missing or in another currency",
        ),
        _check(
            "cached balances equal recomputed",
            "SELECT a.id, COALESCE(b.balance, 0), COALESCE(s.total, 0) "
            "FROM community_account a "
            "LEFT JOIN community_accountbalance b ON b.account_id = a.id "
            "LEFT JOIN (SELECT account_id, SUM(amount) AS total FROM community_entry "
            "GROUP BY account_id) s ON s.account_id = a.id "
            "WHERE ROUND(COALESCE(b.balance, 0) - COALESCE(s.total, 0), 8) <> 0",
            "every cached balance equals the sum of its entries",
            "account {0}: cached {1}, recomputed {2}",
        ),
        _check(
            "no negative contributor balance",
            "SELECT a.id, s.total FROM community_account a "
            "JOIN (SELECT account_id, SUM(amount) AS total FROM community_entry "
            "GROUP BY account_id) s ON s.account_id = a.id "
            "WHERE a.kind IN ('contributor', 'pool', 'payouts') AND ROUND(s.total, 8) < 0",
            "no contributor, pool or payouts account is below zero",
            "account {0} is at {1}",
        ),
        _check(
            "idempotency keys unique",
            "SELECT idempotency_key, COUNT(*) FROM community_ledgertransaction "
            "GROUP BY idempotency_key HAVING COUNT(*) > 1",
            "no idempotency key is used twice",
            "key {0} used {1} times",
        ),
        _check(
            "closed epochs allocate their pool exactly",
            "SELECT ep.id, ep.pool_amount, COALESCE(SUM(al.amount), 0) FROM community_epoch ep "
            "LEFT JOIN community_allocation al ON al.epoch_id = ep.id "
            "WHERE ep.status = 'closed' AND ep.transaction_id IS NOT NULL "
            "GROUP BY ep.id, ep.pool_amount "
            "HAVING ROUND(COALESCE(SUM(al.amount), 0) - ep.pool_amount, 8) <> 0",
            "every paid-out epoch's allocations sum to its pool",
            "epoch {0}: pool {1}, allocated {2}",
        ),
    ]
    chain = audit_verify()
    checks.append(
        HealthCheck(
            "audit chain intact",
            chain.ok,
            f"{chain.checked} audit entries verified"
            if chain.ok
            else f"broken at entry {chain.broken_at}: {chain.reason}",
        )
    )
    return HealthReport(
        checks=checks,
        entries=_scalar("SELECT COUNT(*) FROM community_entry"),
        transactions=_scalar("SELECT COUNT(*) FROM community_ledgertransaction"),
    )
