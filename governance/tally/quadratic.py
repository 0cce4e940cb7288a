"""Quadratic voting: casting k votes (for, or against when negative) on an option costs k²
credits; a ballot's total cost must not exceed the poll's budget.

The highest net total wins; ties go to the option listed first.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from itertools import chain
from operator import methodcaller, mul

from governance.tally.ranking import RankingResult, rank_totals
from governance.tally.types import Ballot, InvalidBallot, OptionId, Quorum, Weight


def quadratic_cost(choice: Mapping[OptionId, int]) -> int:
    return sum(votes * votes for votes in choice.values())


def quadratic_validate(
    choice: Mapping[OptionId, int],
    *,
    options: list[OptionId],
    budget: int,
    allow_negative: bool = True,
) -> dict[OptionId, int]:
    known = set(options)
    result: dict[OptionId, int] = {}
    for option, votes in choice.items():
        if option not in known:
            raise InvalidBallot(f"unknown option id {option}", code="unknown_option")
        if isinstance(votes, bool) or not isinstance(votes, int):
            raise InvalidBallot("votes must be whole numbers", code="invalid_choice")
        if votes < 0 and not allow_negative:
            raise InvalidBallot("negative votes are not allowed", code="invalid_choice")
        if votes:
            result[option] = votes
    cost = quadratic_cost(result)
    if cost > budget:
        raise InvalidBallot(
            f"ballot costs {cost} credits; the budget is {budget}", code="over_budget"
        )
    return result


def tally_quadratic(
    ballots: Iterable[Ballot[Mapping[OptionId, int]]],
    *,
    options: list[OptionId],
    budget: int,
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
    credits: dict[OptionId, Weight] = {}
    if unit:
        # Ballots are sparse (a few options each) and repeat the same (option, votes)
        # pairs: count the pairs once, at C speed, instead of walking every ballot once
        # per option; the same for each ballot's multiset of votes (its cost).
        pairs = Counter(chain.from_iterable(map(methodcaller("items"), choices)))
        for option in options:
            totals[option] = credits[option] = 0
        for (option, votes), count in pairs.items():
            totals[option] += votes * count
            credits[option] += votes * votes * count
        spends = Counter(map(tuple, map(methodcaller("values"), choices)))
        if spends and max(map(_votes_cost, spends)) > budget:
            raise InvalidBallot("a ballot exceeds the credit budget", code="over_budget")
        return _result(totals, credits, options, budget, turnout, voters, quorum, eligible)
    squares_by_option = []
    for option in options:
        votes = list(map(methodcaller("get", option, 0), choices))
        squares = list(map(mul, votes, votes))
        squares_by_option.append(squares)
        totals[option] = sum(map(mul, votes, weights), 0)
        credits[option] = sum(map(mul, squares, weights), 0)
    # Cast-time validation already enforced the budget; recheck every ballot anyway.
    if choices and max(map(sum, zip(*squares_by_option, strict=True))) > budget:
        raise InvalidBallot("a ballot exceeds the credit budget", code="over_budget")
    return _result(totals, credits, options, budget, turnout, voters, quorum, eligible)


def _votes_cost(votes: Iterable[int]) -> int:
    return sum(v * v for v in votes)


def _result(
    totals: dict[OptionId, Weight],
    credits: dict[OptionId, Weight],
    options: list[OptionId],
    budget: int,
    turnout: Weight,
    voters: int,
    quorum: Quorum | None,
    eligible: Weight,
) -> RankingResult:
    ranking, winner, tied = rank_totals(totals, options)
    quorum_met = (quorum or Quorum()).met(turnout=turnout, eligible=eligible)
    if not quorum_met or voters == 0:
        winner = None
    return RankingResult(
        "quadratic",
        totals,
        ranking,
        winner,
        tied,
        turnout,
        quorum_met,
        {"credits": {str(k): str(v) for k, v in credits.items()}, "budget": budget},
    )
