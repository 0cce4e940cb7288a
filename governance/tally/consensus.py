"""Lazy consensus: the motion passes at the deadline unless someone objects with a reason.

A ballot's choice is the objection reason (a string); an empty or blank reason is not an
objection. Deterministic by construction: the outcome depends only on whether any
objection exists; objections are listed in ballot order sorted by reason for display.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from governance.tally.types import Ballot, InvalidBallot


def objection_validate(reason: object) -> str:
    if not isinstance(reason, str) or not reason.strip():
        raise InvalidBallot("an objection needs a reason", code="reason_required")
    if len(reason) > 5000:
        raise InvalidBallot(
            "the reason is too long (5000 characters at most)", code="reason_too_long"
        )
    return reason.strip()


@dataclass(frozen=True)
class ConsensusResult:
    objections: list[str]
    passed: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "method": "lazy_consensus",
            "objections": self.objections,
            "objection_count": len(self.objections),
            "passed": self.passed,
        }


def tally_lazy_consensus(ballots: Iterable[Ballot[str]]) -> ConsensusResult:
    objections = sorted(b.choice.strip() for b in ballots if b.choice and b.choice.strip())
    return ConsensusResult(objections=objections, passed=not objections)
