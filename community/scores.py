"""The contribution score governance may use as an optional vote weight."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from community.models import Contributor


def contribution_score(user: Any) -> Decimal:
    """All-time points of ``user`` (closed epochs plus approved, not yet closed work).

    ``Decimal(0)`` for anonymous users and people without a contributor profile.
    """
    if not getattr(user, "is_authenticated", False):
        return Decimal(0)
    contributor = Contributor.objects.filter(user=user).first()
    if contributor is None:
        return Decimal(0)
    from community.selectors import contributor_points_total

    return contributor_points_total(contributor)
