"""Score voting: each voter gives every option a score from 0 to ``max_score``.

Unscored options count as 0. The highest total wins; ties go to the option listed first.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from operator import methodcaller, mul

from governance.tally.ranking import RankingResult, rank_totals
from governance.tally.types import Ballot, InvalidBallot, OptionId, Quorum, Weight


def score_validate(
    choice: Mapping[OptionId, int], *, options: list[OptionId], max_score: int
) -> dict[OptionId, int]:
    known = set(options)
    result: dict[OptionId, int] = {}
    for option, score in choice.items():
        if option not in known:
            raise InvalidBallot(f"unknown option id {option}", code="unknown_option")
        if isinstance(score, bool) or not isinstance(score, int) or not 0 <= score <= max_score:
            raise InvalidBallot(
                f"scores must be whole numbers from 0 to {max_score}", code="score_out_of_range"
            )
        result[option] = score
    return result


def tally_score(
    ballots: Iterable[Ballot[Mapping[OptionId, int]]],
    *,
    options: list[OptionId],
    quorum: Quorum | None = None,
    eligible: Weight = 0,
) -> RankingResult:
    items = list(ballots)
    choices = [b.choice for b in items]
    weights = [b.weight for b in items]
    voters = len(items)
    turnout: Weight = sum(weights, 0)
    unknown = set().union(*choices) - set(options)
    if unknown:
        raise InvalidBallot(f"unknown option id {min(unknown)}", code="unknown_option")
    unit = all(type(w) is int and w == 1 for w in weights)
    totals: dict[OptionId, Weight] = {}
    for option in options:
        scores = map(methodcaller("get", option, 0), choices)
        totals[option] = sum(scores) if unit else sum(map(mul, scores, weights), 0)
    ranking, winner, tied = rank_totals(totals, options)
    quorum_met = (quorum or Quorum()).met(turnout=turnout, eligible=eligible)
    if not quorum_met or voters == 0:
        winner = None
    return RankingResult("score", totals, ranking, winner, tied, turnout, quorum_met)
