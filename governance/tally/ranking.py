"""The result shape shared by methods that rank options by a total (choice, approval, score,
quadratic), and the deterministic tie-break they all use.

Tie-break: options with equal totals are ordered by their position on the poll (the option
listed first wins). Ties are reported (``tied``) so a steward can see one was broken.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from governance.tally.types import OptionId, Weight, order_key


@dataclass(frozen=True)
class RankingResult:
    method: str
    totals: dict[OptionId, Weight]
    ranking: list[OptionId]
    winner: OptionId | None
    tied: list[OptionId]
    turnout: Weight
    quorum_met: bool
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "totals": {str(k): str(v) for k, v in self.totals.items()},
            "ranking": self.ranking,
            "winner": self.winner,
            "tied": self.tied,
            "turnout": str(self.turnout),
            "quorum_met": self.quorum_met,
            **self.extra,
        }


def rank_totals(
    totals: dict[OptionId, Weight], options: list[OptionId]
) -> tuple[list[OptionId], OptionId | None, list[OptionId]]:
    """Order options by total (desc) then poll position; return (ranking, winner, tied)."""
    position = order_key(options)
    ranking = sorted(options, key=lambda o: (-totals.get(o, 0), position[o]))
    if not ranking:
        return [], None, []
    top = totals.get(ranking[0], 0)
    tied = [o for o in ranking if totals.get(o, 0) == top]
    return ranking, ranking[0], (tied if len(tied) > 1 else [])
