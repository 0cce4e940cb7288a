"""Vote weights. ``contribution_weight`` is the hook the community app's contribution
score plugs into; until it does, every member weighs 1."""

from __future__ import annotations

from decimal import Decimal
from typing import Any


def contribution_weight(user: Any) -> Decimal:
    """A member's vote weight in polls weighted by contribution (never negative)."""
    try:
        from community.selectors import contribution_score  # type: ignore[attr-defined]
    except ImportError:
        return Decimal(1)
    return max(Decimal(0), Decimal(str(contribution_score(user=user))))
