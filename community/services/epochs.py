"""Epochs: opening, peer GIVE, allocation preview and the once-only close."""

from __future__ import annotations

import calendar
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.db.models import Avg, Q, QuerySet, Sum
from django.utils import timezone

from community.models import (
    Account,
    AccountKind,
    Allocation,
    Contribution,
    ContributionStatus,
    ContributionType,
    Contributor,
    Currency,
    Epoch,
    EpochMethod,
    EpochStatus,
    PeerGive,
    Review,
    ReviewDecision,
)
from community.models.contributions import Effort
from community.models.ledger import TransactionSource
from community.services.bulk_sql import rows_insert
from community.services.ledger import (
    AccountRef,
    account_balance,
    account_get,
    contributor_accounts_get_many,
    ledger_post,
)
from community.services.money import currency_get, minor_unit, money_parse
from community.services.scoring import (
    POINTS_QUANTUM,
    PolicyScorer,
    allocate_largest_remainder,
    policy_current,
)
from community.topics import EpochClosedEvent, community_publish
from portal.api.errors import DomainError
from portal.audit import audit_record

logger = logging.getLogger(__name__)

GIVE_PER_MEMBER = 100


@dataclass
class AllocationRow:
    contributor_id: int
    points: Decimal = Decimal(0)
    give_received: int = 0
    contributions: int = 0
    eligible: bool = True
    amount: Decimal = Decimal(0)
    rank: int = 0


def month_bounds(moment: datetime) -> tuple[datetime, datetime]:
    start = moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    days = calendar.monthrange(start.year, start.month)[1]
    return start, start + timedelta(days=days)


@transaction.atomic
def epoch_open(
    *,
    actor: Any,
    name: str,
    starts_at: datetime,
    ends_at: datetime,
    currency: str,
    pool_amount: Any,
    method: str = EpochMethod.PROPORTIONAL,
) -> Epoch:
    """Open an epoch under the current scoring policy (a new policy applies from the next)."""
    if actor is not None and not actor.is_steward:
        raise DomainError("only stewards open epochs", code="forbidden", status_code=403)
    money = currency_get(currency)
    amount = money_parse(pool_amount, currency=money, field="pool_amount", allow_zero=True)
    if method not in EpochMethod.values:
        raise DomainError(
            f"method must be one of {', '.join(EpochMethod.values)}",
            code="invalid",
            fields={"method": ["unknown method"]},
        )
    if ends_at <= starts_at:
        raise DomainError(
            "the epoch must end after it starts",
            code="invalid",
            fields={"ends_at": ["must be after starts_at"]},
        )
    if not (name or "").strip():
        raise DomainError("name the epoch", code="invalid", fields={"name": ["required"]})
    if Epoch.objects.filter(name=name.strip()).exists():
        raise DomainError(
            f"an epoch named {name!r} exists", code="duplicate_epoch", status_code=409
        )
    overlap = Epoch.objects.filter(starts_at__lt=ends_at, ends_at__gt=starts_at).first()
    if overlap is not None:
        raise DomainError(f"overlaps epoch {overlap.name}", code="epoch_overlap", status_code=409)
    epoch = Epoch.objects.create(
        name=name.strip(),
        starts_at=starts_at,
        ends_at=ends_at,
        currency=money,
        pool_amount=amount,
        method=method,
        policy=policy_current(),
    )
    audit_record(
        actor=actor,
        action="epoch.open",
        obj=epoch,
        detail={
            "pool": str(amount),
            "currency": money.code,
            "method": method,
            "policy": epoch.policy.version,
        },
    )
    return epoch


def _epoch_contributions(epoch: Epoch, *, include_unbound: bool) -> QuerySet[Contribution]:
    if not include_unbound:
        return Contribution.objects.filter(epoch=epoch)
    cutoff = min(timezone.now(), epoch.ends_at)
    return Contribution.objects.filter(
        Q(epoch=epoch)
        | Q(
            status=ContributionStatus.APPROVED,
            epoch__isnull=True,
            contributor__isnull=False,
            approved_at__lt=cutoff,
        )
    )


def _score_python(
    epoch: Epoch, scorer: PolicyScorer, *, include_unbound: bool
) -> dict[int, AllocationRow]:
    """The reference scoring: one contribution at a time (fallback and test oracle)."""
    contributions = _epoch_contributions(epoch, include_unbound=include_unbound)
    ratings = dict(
        Review.objects.filter(
            contribution__in=contributions.values("id"),
            decision=ReviewDecision.APPROVE,
            rating__isnull=False,
        )
        .values("contribution_id")
        .annotate(avg=Avg("rating"))
        .values_list("contribution_id", "avg")
    )
    rows: dict[int, AllocationRow] = {}
    for cid, contributor_id, slug, category, effort in contributions.values_list(
        "id", "contributor_id", "type__slug", "type__category", "effort"
    ).iterator(chunk_size=5000):
        row = rows.get(contributor_id)
        if row is None:
            row = rows[contributor_id] = AllocationRow(contributor_id)
        rating = ratings.get(cid)
        row.points += scorer.points(
            type_slug=slug,
            category=category,
            effort=effort,
            rating=Decimal(str(rating)) if rating is not None else None,
        )
        row.contributions += 1
    return rows


# Rating buckets: no rating (0) or the rounded average of approving reviewers' 1 to 5.
_RATING_BUCKETS = (0, 1, 2, 3, 4, 5)


_PRICE_TABLES: dict[tuple[Any, ...], list[Any]] = {}


def _price_table(types: tuple[tuple[int, str, str], ...], scorer: PolicyScorer) -> list[Any]:
    """Flat (type id, effort, bucket, units) rows, cached by everything that prices them."""
    key = (types, *(tuple(sorted(m.items())) for m in scorer.maps()), scorer.default_base)
    cached = _PRICE_TABLES.get(key)
    if cached is not None:
        return cached
    prices: list[Any] = []
    for type_id, slug, category in types:
        for effort in Effort.values:
            for bucket in _RATING_BUCKETS:
                points = scorer.points(
                    type_slug=slug,
                    category=category,
                    effort=effort,
                    rating=Decimal(bucket) if bucket else None,
                )
                prices += [type_id, effort, bucket, int(points / POINTS_QUANTUM)]
    if len(_PRICE_TABLES) > 32:
        _PRICE_TABLES.clear()
    _PRICE_TABLES[key] = prices
    return prices


def _score_sql(
    epoch: Epoch, scorer: PolicyScorer, *, include_unbound: bool
) -> dict[int, AllocationRow] | None:
    """Score in one grouped query; ``None`` when a contribution falls outside the table.

    Points depend only on (type, effort, rating bucket), so Python prices every such key
    once, exactly as ``PolicyScorer`` does, in whole units of ``POINTS_QUANTUM``; the
    database joins that small table to the contributions and sums integers per
    contributor. Integer sums are exact on every backend, so the totals equal the
    one-at-a-time reference to the last digit.
    """
    types = tuple(ContributionType.objects.values_list("id", "slug", "category"))
    prices = _price_table(types, scorer)
    if not prices:
        return None
    first = "(CAST(%s AS BIGINT), CAST(%s AS VARCHAR(10)), CAST(%s AS INTEGER), CAST(%s AS BIGINT))"
    values = ", ".join([first] + ["(%s, %s, %s, %s)"] * (len(prices) // 4 - 1))
    where = "c.epoch_id = %s"
    params: list[Any] = [epoch.pk]
    if include_unbound:
        cutoff = min(timezone.now(), epoch.ends_at)
        where = (
            "(c.epoch_id = %s OR (c.epoch_id IS NULL AND c.status = %s "
            "AND c.approved_at < %s AND c.contributor_id IS NOT NULL))"
        )
        params = [
            epoch.pk,
            ContributionStatus.APPROVED.value,
            connection.ops.adapt_datetimefield_value(cutoff),
        ]
    sql = (
        f"WITH price (type_id, effort, bucket, units) AS (VALUES {values}), "  # noqa: S608
        "rated AS (SELECT r.contribution_id, CAST(ROUND(AVG(r.rating)) AS INTEGER) AS bucket "
        "FROM community_review r WHERE r.decision = %s AND r.rating IS NOT NULL "
        f"AND r.contribution_id IN (SELECT c.id FROM community_contribution c WHERE {where}) "
        "GROUP BY r.contribution_id) "
        "SELECT c.contributor_id, COUNT(*), COUNT(price.units), SUM(price.units) "
        "FROM community_contribution c "
        "LEFT JOIN rated ON rated.contribution_id = c.id "
        "LEFT JOIN price ON price.type_id = c.type_id AND price.effort = c.effort "
        "AND price.bucket = COALESCE(rated.bucket, 0) "
        f"WHERE {where} GROUP BY c.contributor_id"
    )
    rows: dict[int, AllocationRow] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, [*prices, ReviewDecision.APPROVE.value, *params, *params])
        for contributor_id, count, priced, units in cursor.fetchall():
            if count != priced:
                return None  # an effort or type the table does not know: score one by one
            rows[contributor_id] = AllocationRow(
                contributor_id,
                points=Decimal(int(units)) * POINTS_QUANTUM,
                contributions=int(count),
            )
    return rows


def epoch_allocation_compute(epoch: Epoch, *, include_unbound: bool = True) -> list[AllocationRow]:
    """Score the epoch's approved contributions and split its pool (no writes)."""
    scorer = PolicyScorer(epoch.policy)
    rows = _score_sql(epoch, scorer, include_unbound=include_unbound)
    if rows is None:
        rows = _score_python(epoch, scorer, include_unbound=include_unbound)
    if epoch.method == EpochMethod.PEER:
        for receiver_id, total in (
            PeerGive.objects.filter(epoch=epoch)
            .values("receiver_id")
            .annotate(total=Sum("amount"))
            .values_list("receiver_id", "total")
        ):
            row = rows.get(receiver_id)
            if row is None:
                row = rows[receiver_id] = AllocationRow(receiver_id)
            row.give_received = int(total or 0)
    opted_out = set(
        Contributor.objects.filter(opt_out_money=True).values_list("id", flat=True)
    ).intersection(rows)
    for contributor_id in opted_out:
        rows[contributor_id].eligible = False
    weights = {
        cid: (Decimal(row.give_received) if epoch.method == EpochMethod.PEER else row.points)
        for cid, row in rows.items()
        if row.eligible
    }
    unit = minor_unit(epoch.currency)
    total_units = int(epoch.pool_amount / unit)
    for cid, units in allocate_largest_remainder(total_units=total_units, weights=weights).items():
        rows[cid].amount = (Decimal(units) * unit).quantize(unit)
    ordered = sorted(
        rows.values(),
        key=lambda r: (-r.amount, -r.give_received, -r.points, r.contributor_id),
    )
    for position, row in enumerate(ordered, start=1):
        row.rank = position
    return ordered


def epoch_allocations(epoch: Epoch) -> list[AllocationRow]:
    """The frozen allocation of a closed epoch, or the live preview of an open one."""
    if epoch.status == EpochStatus.CLOSED:
        return [
            AllocationRow(
                a.contributor_id, a.points, a.give_received, a.contributions, True, a.amount, a.rank
            )
            for a in epoch.allocations.all()
        ]
    return epoch_allocation_compute(epoch)


def epoch_close(*, epoch_id: int, actor: Any = None) -> Epoch:
    """Close once: bind contributions, freeze allocations, post the ledger transaction."""
    if actor is not None and not actor.is_steward:
        raise DomainError("only stewards close epochs", code="forbidden", status_code=403)
    with transaction.atomic():
        epoch = (
            Epoch.objects.select_for_update(of=("self",))
            .select_related("currency", "policy")
            .filter(pk=epoch_id)
            .first()
        )
        if epoch is None:
            raise DomainError("no such epoch", code="not_found", status_code=404)
        if epoch.status == EpochStatus.CLOSED:
            raise DomainError(
                f"epoch {epoch.name} is already closed", code="already_closed", status_code=409
            )
        cutoff = min(timezone.now(), epoch.ends_at)
        Contribution.objects.filter(
            status=ContributionStatus.APPROVED,
            epoch__isnull=True,
            contributor__isnull=False,
            approved_at__lt=cutoff,
        ).update(epoch=epoch)
        rows = epoch_allocation_compute(epoch, include_unbound=False)
        paid = [row for row in rows if row.amount > 0]
        total = sum((row.amount for row in paid), Decimal(0))
        tx = None
        if paid:
            pool = account_get(kind=AccountKind.POOL, currency=epoch.currency)
            available = account_balance(pool)
            if available < total:
                raise DomainError(
                    f"the {epoch.currency_id} pool holds {available}; epoch {epoch.name} needs "
                    f"{total}. Fund the pool first.",
                    code="pool_underfunded",
                    status_code=409,
                )
            accounts = contributor_accounts_get_many(
                contributor_ids=[row.contributor_id for row in paid], currency=epoch.currency
            )
            entries: list[tuple[Account | AccountRef, Decimal]] = [(pool, -total)]
            entries += [(accounts[row.contributor_id], row.amount) for row in paid]
            tx = ledger_post(
                entries=entries,
                idempotency_key=f"epoch:{epoch.pk}",
                source=TransactionSource.EPOCH,
                source_id=epoch.pk,
                memo=f"epoch {epoch.name} allocation",
                actor=actor,
                audit=False,  # the epoch.close audit entry covers it
            )
        rows_insert(
            model=Allocation,
            columns=(
                "epoch_id",
                "contributor_id",
                "points",
                "give_received",
                "amount",
                "contributions",
                "rank",
            ),
            rows=[
                (
                    epoch.pk,
                    row.contributor_id,
                    row.points,
                    row.give_received,
                    row.amount,
                    row.contributions,
                    row.rank,
                )
                for row in rows
            ],
        )
        epoch.status = EpochStatus.CLOSED
        epoch.closed_at = timezone.now()
        epoch.closed_by = actor if getattr(actor, "is_authenticated", False) else None
        epoch.transaction = tx
        epoch.save(update_fields=["status", "closed_at", "closed_by", "transaction"])
        audit_record(
            actor=actor,
            action="epoch.close",
            obj=epoch,
            detail={
                "pool": str(epoch.pool_amount),
                "allocated": str(total),
                "recipients": len(paid),
                "contributors": len(rows),
                "policy": epoch.policy.version,
                "transaction": tx.pk if tx else None,
            },
        )
        from community.services.badges import badges_after_epoch

        badges_after_epoch(epoch=epoch, rows=rows)
        event: EpochClosedEvent = {
            "id": epoch.pk,
            "name": epoch.name,
            "pool": str(epoch.pool_amount),
            "currency": epoch.currency_id,
            "recipients": len(paid),
        }
        community_publish("epoch.closed", event)
    return epoch


def epoch_recompute(epoch: Epoch) -> list[AllocationRow]:
    """Recompute a closed epoch from its contributions under its own policy version."""
    return epoch_allocation_compute(epoch, include_unbound=False)


@transaction.atomic
def give_set(*, epoch_id: int, user: Any, receiver_id: int, amount: int) -> PeerGive | None:
    """Set how much GIVE ``user`` sends to a contributor this epoch (0 withdraws it)."""
    from community.services.contributions import contributor_for

    giver = contributor_for(user)
    Contributor.objects.select_for_update().filter(pk=giver.pk).first()  # serialise per giver
    epoch = Epoch.objects.filter(pk=epoch_id).first()
    if epoch is None:
        raise DomainError("no such epoch", code="not_found", status_code=404)
    if epoch.method != EpochMethod.PEER:
        raise DomainError(
            "this epoch allocates by points, not GIVE", code="not_peer_epoch", status_code=409
        )
    if epoch.status != EpochStatus.OPEN:
        raise DomainError(
            "the epoch is closed; GIVE can no longer change", code="epoch_closed", status_code=409
        )
    if isinstance(amount, bool) or not isinstance(amount, int) or amount < 0:
        raise DomainError(
            "GIVE is a whole number of zero or more",
            code="invalid_amount",
            fields={"amount": ["a whole number, zero or more"]},
        )
    if receiver_id == giver.pk:
        raise DomainError("you cannot give GIVE to yourself", code="self_allocation")
    if not Contributor.objects.filter(pk=receiver_id).exists():
        raise DomainError("no such contributor", code="not_found", status_code=404)
    others = (
        PeerGive.objects.filter(epoch=epoch, giver=giver)
        .exclude(receiver_id=receiver_id)
        .aggregate(total=Sum("amount"))["total"]
        or 0
    )
    if others + amount > GIVE_PER_MEMBER:
        raise DomainError(
            f"you have {GIVE_PER_MEMBER - others} GIVE left to distribute this epoch",
            code="give_exceeded",
            fields={"amount": [f"at most {GIVE_PER_MEMBER - others}"]},
        )
    PeerGive.objects.filter(epoch=epoch, giver=giver, receiver_id=receiver_id).delete()
    give = None
    if amount:
        give = PeerGive.objects.create(
            epoch=epoch, giver=giver, receiver_id=receiver_id, amount=amount
        )
    audit_record(
        actor=user,
        action="epoch.give",
        obj=epoch,
        detail={"receiver": receiver_id, "amount": amount},
    )
    return give


def epochs_tick(*, now: datetime | None = None) -> list[int]:
    """Close every open epoch past its end; roll a monthly successor. Returns closed ids."""
    now = now or timezone.now()
    closed: list[int] = []
    for epoch in Epoch.objects.filter(status=EpochStatus.OPEN, ends_at__lte=now).order_by(
        "ends_at"
    ):
        try:
            epoch_close(epoch_id=epoch.pk)
        except DomainError as exc:
            logger.warning("epoch %s not closed: %s", epoch.pk, exc.message)
            continue
        closed.append(epoch.pk)
        start, end = month_bounds(epoch.ends_at)
        if start < epoch.ends_at:
            start, end = epoch.ends_at, month_bounds(epoch.ends_at)[1]
        if not Epoch.objects.filter(starts_at__lt=end, ends_at__gt=start).exists():
            name = start.strftime("%Y-%m")
            if not Epoch.objects.filter(name=name).exists():
                epoch_open(
                    actor=None,
                    name=name,
                    starts_at=start,
                    ends_at=end,
                    currency=epoch.currency_id,
                    pool_amount=str(epoch.pool_amount),
                    method=epoch.method,
                )
    return closed


def currency_for(code: str) -> Currency:
    return currency_get(code)
