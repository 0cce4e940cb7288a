"""Scoring policies and the pure functions that turn contributions into points and money."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.db.models import Max

from community.defaults import defaults_ensure
from community.models import ScoringCategory, ScoringPolicy
from community.models.contributions import Effort
from portal.api.errors import DomainError
from portal.audit import audit_record

POINTS_QUANTUM = Decimal("0.0001")


def policy_current() -> ScoringPolicy:
    """The newest policy version; epochs opened from now on use it."""
    defaults_ensure()
    policy = ScoringPolicy.objects.order_by("-version").first()
    assert policy is not None
    return policy


def _decimal_map(
    raw: Any, *, field: str, keys: Iterable[str] | None = None, allow_extra: bool = True
) -> dict[str, str]:
    if not isinstance(raw, Mapping):
        raise DomainError(f"{field} must be an object", code="invalid", fields={field: ["object"]})
    out: dict[str, str] = {}
    for key, value in raw.items():
        if isinstance(value, float):
            raise DomainError(
                f"{field}.{key}: send decimals as strings",
                code="invalid",
                fields={field: [f"{key}: send decimals as strings"]},
            )
        try:
            number = Decimal(str(value))
        except (InvalidOperation, ValueError):
            raise DomainError(
                f"{field}.{key}: not a number",
                code="invalid",
                fields={field: [f"{key}: not a number"]},
            ) from None
        if not number.is_finite() or number < 0:
            raise DomainError(
                f"{field}.{key}: must be zero or more",
                code="invalid",
                fields={field: [f"{key}: must be zero or more"]},
            )
        out[str(key)] = str(number)
    if keys is not None:
        missing = set(keys) - set(out)
        extra = set(out) - set(keys)
        if missing or (extra and not allow_extra):
            raise DomainError(
                f"{field}: expected keys {sorted(keys)}",
                code="invalid",
                fields={field: [f"expected keys {sorted(keys)}"]},
            )
    return out


@transaction.atomic
def policy_create(
    *,
    actor: Any,
    category_weights: Any = None,
    base_points: Any = None,
    effort_multipliers: Any = None,
    rating_multipliers: Any = None,
    default_base_points: str | None = None,
    notes: str = "",
) -> ScoringPolicy:
    """A steward publishes a new policy version (unspecified parts copy the current one)."""
    if not actor.is_steward:
        raise DomainError(
            "only stewards change the scoring policy", code="forbidden", status_code=403
        )
    current = policy_current()
    weights = _decimal_map(
        category_weights if category_weights is not None else current.category_weights,
        field="category_weights",
        keys=ScoringCategory.values,
        allow_extra=False,
    )
    if sum(Decimal(v) for v in weights.values()) != 1:
        raise DomainError(
            "category weights must sum to 1",
            code="invalid",
            fields={"category_weights": ["must sum to 1"]},
        )
    policy = ScoringPolicy.objects.create(
        version=(ScoringPolicy.objects.aggregate(v=Max("version"))["v"] or 0) + 1,
        category_weights=weights,
        base_points=_decimal_map(
            base_points if base_points is not None else current.base_points, field="base_points"
        ),
        default_base_points=str(default_base_points or current.default_base_points),
        effort_multipliers=_decimal_map(
            effort_multipliers if effort_multipliers is not None else current.effort_multipliers,
            field="effort_multipliers",
            keys=Effort.values,
        ),
        rating_multipliers=_decimal_map(
            rating_multipliers if rating_multipliers is not None else current.rating_multipliers,
            field="rating_multipliers",
        ),
        notes=notes,
        created_by=actor,
    )
    audit_record(
        actor=actor, action="scoring_policy.create", obj=policy, detail={"version": policy.version}
    )
    return policy


class PolicyScorer:
    """Points for a contribution under one policy: base * category weight * effort * rating.

    Everything is ``Decimal`` so the same policy always yields the same points.
    """

    def __init__(self, policy: ScoringPolicy):
        self.weights = {k: Decimal(v) for k, v in policy.category_weights.items()}
        self.base = {k: Decimal(v) for k, v in policy.base_points.items()}
        self.default_base = Decimal(policy.default_base_points)
        self.effort = {k: Decimal(v) for k, v in policy.effort_multipliers.items()}
        self.rating = {k: Decimal(v) for k, v in policy.rating_multipliers.items()}
        self._cache: dict[tuple[str, str, str, int | None], Decimal] = {}

    def maps(self) -> tuple[dict[str, Decimal], ...]:
        return (self.weights, self.base, self.effort, self.rating)

    def points(
        self, *, type_slug: str, category: str, effort: str, rating: Decimal | None = None
    ) -> Decimal:
        rounded = (
            None if rating is None else int(rating.quantize(Decimal(1), rounding=ROUND_HALF_UP))
        )
        key = (type_slug, category, effort, rounded)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        value = (
            self.base.get(type_slug, self.default_base)
            * self.weights.get(category, Decimal(0))
            * self.effort.get(effort, Decimal(1))
            * (self.rating.get(str(rounded), Decimal(1)) if rounded is not None else Decimal(1))
        ).quantize(POINTS_QUANTUM, rounding=ROUND_HALF_UP)
        self._cache[key] = value
        return value


def allocate_largest_remainder(
    *, total_units: int, weights: Mapping[int, Decimal]
) -> dict[int, int]:
    """Split ``total_units`` (minor units) pro rata to ``weights``; the parts sum exactly.

    Floors first, then one unit each to the largest remainders (ties by key, so the
    result is deterministic). Integer arithmetic throughout: no rounding drift.
    """
    positive = {k: w for k, w in weights.items() if w > 0}
    if total_units <= 0 or not positive:
        return {}
    scale = max((-int(w.as_tuple().exponent) for w in positive.values()), default=0)
    scale = max(scale, 0)
    ints = {k: int(w.scaleb(scale)) for k, w in positive.items()}
    denominator = sum(ints.values())
    shares: dict[int, int] = {}
    remainders: list[tuple[int, int]] = []
    for key, weight in ints.items():
        quotient, remainder = divmod(total_units * weight, denominator)
        shares[key] = quotient
        remainders.append((-remainder, key))
    leftover = total_units - sum(shares.values())
    remainders.sort()
    for _, key in remainders[:leftover]:
        shares[key] += 1
    return shares
