"""Vote weights. ``contribution_weight`` is the hook polls weighted by contribution use: the
community app's contribution score when that app is installed, else 1 for everyone."""

from __future__ import annotations

from decimal import Decimal
from typing import Any


def contribution_weight(user: Any) -> Decimal:
    """A member's vote weight in polls weighted by contribution (never negative)."""
    try:
        from community.scores import contribution_score
    except ImportError:
        return Decimal(1)
    return max(Decimal(0), Decimal(str(contribution_score(user))))
