"""The quadratic tally's fast path (every weight 1) and its general path (any weights)
give the same result, and both refuse a ballot over budget."""

from __future__ import annotations

import random
from fractions import Fraction

import pytest

from governance import tally
from governance.tally import InvalidBallot

OPTIONS = [11, 12, 13, 14, 15]


def _ballots(seed: int) -> list[dict[int, int]]:
    rng = random.Random(seed)
    return [
        {rng.choice(OPTIONS): rng.choice((-4, -2, -1, 0, 1, 3)) for _ in range(rng.randint(0, 3))}
        for _ in range(500)
    ]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_unit_weights_match_the_general_path(seed: int) -> None:
    choices = _ballots(seed)
    fast = tally.tally_quadratic(
        [tally.Ballot(c) for c in choices], options=OPTIONS, budget=100
    ).as_dict()
    general = tally.tally_quadratic(
        [tally.Ballot(c, Fraction(1)) for c in choices], options=OPTIONS, budget=100
    ).as_dict()
    assert fast == general


@pytest.mark.parametrize("weight", [1, Fraction(1, 2)])
def test_a_ballot_over_budget_is_refused(weight) -> None:
    ballots = [tally.Ballot({11: 3}, weight), tally.Ballot({11: 7, 12: 2}, weight)]
    with pytest.raises(InvalidBallot) as err:
        tally.tally_quadratic(ballots, options=OPTIONS, budget=50)
    assert err.value.code == "over_budget"
