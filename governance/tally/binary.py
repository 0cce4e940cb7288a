"""Yes / no / abstain, optionally with "block" for consent-style decisions.

Any block fails the motion regardless of the count. Otherwise the majority rule decides;
a tie (yes == no under a simple majority) fails — the status quo wins ties.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from governance.tally.types import Ballot, InvalidBallot, MajorityRule, Quorum, Weight

BinaryChoice = Literal["yes", "no", "abstain", "block"]
CHOICES: tuple[str, ...] = ("yes", "no", "abstain", "block")


@dataclass(frozen=True)
class BinaryResult:
    yes: Weight
    no: Weight
    abstain: Weight
    block: Weight
    turnout: Weight
    quorum_met: bool
    passed: bool
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "method": "yes_no",
            "counts": {
                "yes": str(self.yes),
                "no": str(self.no),
                "abstain": str(self.abstain),
                "block": str(self.block),
            },
            "turnout": str(self.turnout),
            "quorum_met": self.quorum_met,
            "passed": self.passed,
            "reason": self.reason,
        }


def binary_validate(choice: object, *, allow_block: bool) -> BinaryChoice:
    if choice not in CHOICES or (choice == "block" and not allow_block):
        allowed = ", ".join(CHOICES if allow_block else CHOICES[:3])
        raise InvalidBallot(f"choice must be one of: {allowed}", code="invalid_choice")
    return choice  # type: ignore[return-value]


def tally_binary(
    ballots: Iterable[Ballot[str]],
    *,
    majority: MajorityRule | None = None,
    quorum: Quorum | None = None,
    eligible: Weight = 0,
    allow_block: bool = False,
) -> BinaryResult:
    counts: dict[str, Weight] = dict.fromkeys(CHOICES, 0)
    for ballot in ballots:
        binary_validate(ballot.choice, allow_block=allow_block)
        counts[ballot.choice] += ballot.weight
    turnout = counts["yes"] + counts["no"] + counts["abstain"] + counts["block"]
    quorum_met = (quorum or Quorum()).met(turnout=turnout, eligible=eligible)
    rule = majority or MajorityRule()
    if not quorum_met:
        passed, reason = False, "no_quorum"
    elif counts["block"] > 0:
        passed, reason = False, "blocked"
    elif rule.passes(
        yes=counts["yes"], no=counts["no"], abstain=counts["abstain"], eligible=eligible
    ):
        passed, reason = True, "majority"
    else:
        passed, reason = False, "no_majority"
    return BinaryResult(
        counts["yes"],
        counts["no"],
        counts["abstain"],
        counts["block"],
        turnout,
        quorum_met,
        passed,
        reason,
    )
