"""Shared types for the tally functions: ballots, weights, quorum and majority rules.

Pure Python, no Django: anyone can recompute a published result with this package alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Generic, Literal, NamedTuple, TypeVar

Weight = int | Decimal
OptionId = int
T = TypeVar("T")


class Ballot(NamedTuple, Generic[T]):
    """One counted ballot: the method-specific ``choice`` and the voter's ``weight``."""

    choice: T
    weight: Weight = 1


class InvalidBallot(ValueError):
    """A ballot breaks the poll's rules; ``code`` names the rule for API errors."""

    def __init__(self, message: str, *, code: str = "invalid_ballot") -> None:
        super().__init__(message)
        self.code = code


MajorityKind = Literal["simple", "absolute", "two_thirds", "custom"]
MajorityBase = Literal["valid", "valid_abstain", "eligible"]


@dataclass(frozen=True)
class MajorityRule:
    """How many votes "for" are needed, counted against an explicit base.

    - ``simple``: more for than against (abstentions and the base play no part);
    - ``absolute``: for > 1/2 of the base;
    - ``two_thirds``: for >= 2/3 of the base;
    - ``custom``: for >= ``fraction`` of the base (strictly greater when fraction is 1/2).

    The base is the weight of valid votes (for + against), valid + abstain, or all eligible.
    """

    kind: MajorityKind = "simple"
    base: MajorityBase = "valid"
    fraction: Fraction | None = None

    def threshold(self) -> Fraction:
        if self.kind == "two_thirds":
            return Fraction(2, 3)
        if self.kind == "custom":
            if self.fraction is None or not (0 < self.fraction <= 1):
                raise ValueError("a custom majority needs a fraction in (0, 1]")
            return self.fraction
        return Fraction(1, 2)

    def passes(self, *, yes: Weight, no: Weight, abstain: Weight, eligible: Weight) -> bool:
        if self.kind == "simple":
            return yes > no
        base = {"valid": yes + no, "valid_abstain": yes + no + abstain, "eligible": eligible}[
            self.base
        ]
        if base <= 0:
            return False
        share = Fraction(yes) / Fraction(base)
        threshold = self.threshold()
        if self.kind == "absolute" or threshold == Fraction(1, 2):
            return share > threshold
        return share >= threshold


@dataclass(frozen=True)
class Quorum:
    """Minimum turnout: an absolute count and/or a share of the eligible weight (both apply)."""

    count: int = 0
    percent: Fraction = Fraction(0)

    def met(self, *, turnout: Weight, eligible: Weight) -> bool:
        if turnout < self.count:
            return False
        return Fraction(turnout) * 100 >= self.percent * Fraction(eligible)


def total_weight(ballots: list[Ballot[T]]) -> Weight:
    return sum((b.weight for b in ballots), 0)


def order_key(options: list[OptionId]) -> dict[OptionId, int]:
    """Position of each option on the poll: the documented last-resort tie-break."""
    return {option: index for index, option in enumerate(options)}
