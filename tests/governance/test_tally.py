"""Tally functions against published worked examples, edge cases and properties."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from governance.tally import (
    NONE_OF_THE_ABOVE,
    Ballot,
    InvalidBallot,
    MajorityRule,
    Quorum,
    choice_validate,
    quadratic_cost,
    quadratic_validate,
    ranking_validate,
    score_validate,
    tally_approval,
    tally_binary,
    tally_choice,
    tally_irv,
    tally_lazy_consensus,
    tally_quadratic,
    tally_schulze,
    tally_score,
)

A, B, C, D, E = 1, 2, 3, 4, 5


def many(n: int, choice: object) -> list[Ballot]:
    return [Ballot(choice) for _ in range(n)]


# --- Schulze: the 45-voter example from Wikipedia's "Schulze method" article ----------------
WIKI_SCHULZE = [
    (5, (A, C, B, E, D)),
    (5, (A, D, E, C, B)),
    (8, (B, E, D, A, C)),
    (3, (C, A, B, E, D)),
    (7, (C, A, E, B, D)),
    (2, (C, B, A, D, E)),
    (7, (D, C, E, B, A)),
    (8, (E, B, A, D, C)),
]


def wiki_ballots() -> list[Ballot]:
    return [b for n, ranks in WIKI_SCHULZE for b in many(n, ranks)]


def test_schulze_wikipedia_example_elects_e() -> None:
    result = tally_schulze(wiki_ballots(), options=[A, B, C, D, E])
    assert result.winner == E
    assert result.ranking == [E, A, C, B, D]
    # The article's published matrix of pairwise preferences d[X,Y] ...
    assert result.pairwise == [
        [0, 20, 26, 30, 22],
        [25, 0, 16, 33, 18],
        [19, 29, 0, 17, 24],
        [15, 12, 28, 0, 14],
        [23, 27, 21, 31, 0],
    ]
    # ... and of strongest path strengths p[X,Y].
    assert result.strongest_paths == [
        [0, 28, 28, 30, 24],
        [25, 0, 28, 33, 24],
        [25, 29, 0, 29, 24],
        [25, 28, 28, 0, 24],
        [25, 28, 28, 31, 0],
    ]
    assert result.tied == []


def test_schulze_symmetric_tie_goes_to_first_listed_and_is_reported() -> None:
    result = tally_schulze([Ballot((A, B)), Ballot((B, A))], options=[A, B])
    assert result.winner == A
    assert result.tied == [A, B]


def test_schulze_unranked_options_rank_below_ranked_ones() -> None:
    result = tally_schulze([Ballot((C,)), Ballot((C,)), Ballot((A, B))], options=[A, B, C])
    assert result.pairwise[2][0] == 2 and result.pairwise[0][2] == 1
    assert result.winner == C


# --- IRV: Tennessee capital example (Wikipedia, "Instant-runoff voting") --------------------
MEMPHIS, NASHVILLE, CHATTANOOGA, KNOXVILLE = 11, 12, 13, 14
TENNESSEE = [
    (42, (MEMPHIS, NASHVILLE, CHATTANOOGA, KNOXVILLE)),
    (26, (NASHVILLE, CHATTANOOGA, KNOXVILLE, MEMPHIS)),
    (15, (CHATTANOOGA, KNOXVILLE, NASHVILLE, MEMPHIS)),
    (17, (KNOXVILLE, CHATTANOOGA, NASHVILLE, MEMPHIS)),
]
CITIES = [MEMPHIS, NASHVILLE, CHATTANOOGA, KNOXVILLE]


def tennessee() -> list[Ballot]:
    return [b for n, ranks in TENNESSEE for b in many(n, ranks)]


def test_irv_tennessee_elects_knoxville_in_three_rounds() -> None:
    result = tally_irv(tennessee(), options=CITIES)
    assert result.winner == KNOXVILLE
    assert [r.eliminated for r in result.rounds] == [CHATTANOOGA, NASHVILLE, None]
    assert result.rounds[1].counts == {MEMPHIS: 42, NASHVILLE: 26, KNOXVILLE: 32}
    assert result.rounds[2].counts == {MEMPHIS: 42, KNOXVILLE: 58}


def test_schulze_tennessee_elects_condorcet_winner_nashville() -> None:
    result = tally_schulze(tennessee(), options=CITIES)
    assert result.winner == NASHVILLE


def test_irv_exhausted_ballots_leave_the_denominator() -> None:
    ballots = many(4, (A,)) + many(3, (B,)) + many(2, (C,))
    result = tally_irv(ballots, options=[A, B, C])
    assert result.rounds[0].eliminated == C
    assert result.rounds[1].exhausted == 2
    assert result.winner == A  # 4 of the 7 ballots still in play


def test_irv_elimination_tie_uses_earlier_round_then_poll_order() -> None:
    # Round 1: A3 B2 C2 D1 → D out (its ballot goes to C). Round 2: A3 B2 C3 → B is lowest.
    ballots = many(3, (A,)) + many(2, (B,)) + many(2, (C,)) + [Ballot((D, C))]
    result = tally_irv(ballots, options=[A, B, C, D])
    assert [r.eliminated for r in result.rounds][:2] == [D, B]
    # Tied in every round: the option listed last is eliminated first.
    tied = tally_irv([Ballot((A,)), Ballot((B,)), Ballot((C,))], options=[A, B, C])
    assert tied.rounds[0].eliminated == C and tied.tie_broken


def test_irv_no_ballots_no_winner() -> None:
    assert tally_irv([], options=[A, B]).winner is None


def test_ranking_validation_rejects_duplicates_and_unknown() -> None:
    with pytest.raises(InvalidBallot) as dup:
        ranking_validate((A, A), options=[A, B])
    assert dup.value.code == "duplicate_rank"
    with pytest.raises(InvalidBallot) as unknown:
        ranking_validate((A, 99), options=[A, B])
    assert unknown.value.code == "unknown_option"


# --- yes / no / abstain / block, majority rules and quorum ----------------------------------
def yn(yes: int, no: int, abstain: int = 0, block: int = 0) -> list[Ballot]:
    return many(yes, "yes") + many(no, "no") + many(abstain, "abstain") + many(block, "block")


def test_binary_simple_majority_ignores_abstentions_and_tie_fails() -> None:
    assert tally_binary(yn(5, 4, 10)).passed
    assert not tally_binary(yn(5, 5)).passed


def test_binary_majority_bases() -> None:
    ballots = yn(6, 4, 3)
    absolute_valid = MajorityRule("absolute", "valid")
    absolute_with_abstain = MajorityRule("absolute", "valid_abstain")
    absolute_eligible = MajorityRule("absolute", "eligible")
    assert tally_binary(ballots, majority=absolute_valid, eligible=20).passed  # 6/10
    assert not tally_binary(ballots, majority=absolute_with_abstain, eligible=20).passed  # 6/13
    assert not tally_binary(ballots, majority=absolute_eligible, eligible=20).passed  # 6/20


def test_binary_two_thirds_and_custom_fraction_are_inclusive() -> None:
    assert tally_binary(yn(4, 2), majority=MajorityRule("two_thirds")).passed
    assert not tally_binary(yn(3, 2), majority=MajorityRule("two_thirds")).passed
    three_quarters = MajorityRule("custom", fraction=Fraction(3, 4))
    assert tally_binary(yn(3, 1), majority=three_quarters).passed
    assert not tally_binary(yn(2, 1), majority=three_quarters).passed


def test_binary_block_fails_consent_decision() -> None:
    result = tally_binary(yn(10, 0, 0, 1), allow_block=True)
    assert not result.passed and result.reason == "blocked"
    with pytest.raises(InvalidBallot):
        tally_binary(yn(1, 0, 0, 1), allow_block=False)


def test_quorum_by_count_and_percent_of_eligible() -> None:
    assert tally_binary(yn(2, 0, 1), quorum=Quorum(count=4), eligible=10).reason == "no_quorum"
    assert tally_binary(yn(2, 0, 1), quorum=Quorum(count=3), eligible=10).passed
    half = Quorum(percent=Fraction(50))
    assert not tally_binary(yn(3, 1), quorum=half, eligible=10).quorum_met
    assert tally_binary(yn(3, 2), quorum=half, eligible=10).quorum_met


def test_weights_count_as_multiples() -> None:
    ballots = [Ballot("yes", Decimal("2.5")), Ballot("no"), Ballot("no")]
    assert tally_binary(ballots).passed


# --- single / multiple choice, approval --------------------------------------------------------
def test_choice_validation_limits_and_none_of_the_above() -> None:
    opts = [A, B, C]
    assert choice_validate((B, A), options=opts, max_selections=2) == (A, B)
    with pytest.raises(InvalidBallot) as many_err:
        choice_validate((A, B, C), options=opts, max_selections=2)
    assert many_err.value.code == "too_many_selections"
    with pytest.raises(InvalidBallot) as few:
        choice_validate((A,), options=opts, min_selections=2, max_selections=3)
    assert few.value.code == "too_few_selections"
    assert choice_validate((NONE_OF_THE_ABOVE,), options=opts, allow_none=True) == (0,)
    with pytest.raises(InvalidBallot):
        choice_validate((NONE_OF_THE_ABOVE, A), options=opts, allow_none=True, max_selections=2)
    with pytest.raises(InvalidBallot):
        choice_validate((NONE_OF_THE_ABOVE,), options=opts)


def test_single_choice_plurality_tie_goes_to_first_listed() -> None:
    result = tally_choice(many(2, (B,)) + many(2, (A,)) + many(1, (C,)), options=[A, B, C])
    assert result.winner == A and result.tied == [A, B]
    assert result.ranking == [A, B, C]


def test_none_of_the_above_can_defeat_every_option() -> None:
    result = tally_choice(many(3, (0,)) + many(2, (A,)), options=[A, B])
    assert result.winner is None


def test_choice_majority_rule_applies_to_the_winner() -> None:
    ballots = many(4, (A,)) + many(3, (B,)) + many(3, (C,))
    assert tally_choice(ballots, options=[A, B, C]).winner == A
    strict = MajorityRule("absolute")
    assert tally_choice(ballots, options=[A, B, C], majority=strict).winner is None


def test_approval_counts_every_approved_option() -> None:
    result = tally_approval([Ballot((A, B)), Ballot((B,)), Ballot((A, B, C))], options=[A, B, C])
    assert result.totals == {A: 2, B: 3, C: 1}
    assert result.winner == B


# --- score, quadratic, lazy consensus ----------------------------------------------------------
def test_score_totals_and_range() -> None:
    result = tally_score([Ballot({A: 5, B: 3}), Ballot({A: 0, B: 5})], options=[A, B])
    assert result.totals == {A: 5, B: 8} and result.winner == B
    with pytest.raises(InvalidBallot) as err:
        score_validate({A: 6}, options=[A, B], max_score=5)
    assert err.value.code == "score_out_of_range"


def test_quadratic_cost_and_budget() -> None:
    assert quadratic_cost({A: 3, B: -2}) == 13
    assert quadratic_validate({A: 3, B: 1}, options=[A, B], budget=10) == {A: 3, B: 1}
    with pytest.raises(InvalidBallot) as err:
        quadratic_validate({A: 3, B: 2}, options=[A, B], budget=10)
    assert err.value.code == "over_budget"
    result = tally_quadratic([Ballot({A: 3}), Ballot({B: 2, A: -1})], options=[A, B], budget=10)
    assert result.totals == {A: 2, B: 2} and result.winner == A and result.tied == [A, B]


def test_lazy_consensus_passes_without_objections() -> None:
    assert tally_lazy_consensus([]).passed
    result = tally_lazy_consensus([Ballot("breaks the API")])
    assert not result.passed and result.objections == ["breaks the API"]


# --- properties --------------------------------------------------------------------------------
OPTS = [1, 2, 3, 4]
rankings = st.permutations(OPTS).flatmap(
    lambda p: st.integers(1, len(p)).map(lambda n: tuple(p[:n]))
)
approvals = st.sets(st.sampled_from(OPTS), max_size=4).map(lambda s: tuple(sorted(s)))


@settings(max_examples=60, deadline=None)
@given(st.lists(rankings, max_size=30), st.randoms())
def test_ranked_tallies_do_not_depend_on_ballot_order(ranks: list, rnd) -> None:
    ballots = [Ballot(r) for r in ranks]
    shuffled = list(ballots)
    rnd.shuffle(shuffled)
    assert tally_irv(ballots, options=OPTS) == tally_irv(shuffled, options=OPTS)
    assert tally_schulze(ballots, options=OPTS) == tally_schulze(shuffled, options=OPTS)


@settings(max_examples=60, deadline=None)
@given(st.lists(approvals, max_size=30), st.randoms())
def test_approval_and_score_do_not_depend_on_ballot_order(sets: list, rnd) -> None:
    ballots = [Ballot(s) for s in sets]
    shuffled = list(ballots)
    rnd.shuffle(shuffled)
    assert tally_approval(ballots, options=OPTS) == tally_approval(shuffled, options=OPTS)
    scores = [Ballot({o: (i + o) % 6 for o in s}) for i, s in enumerate(sets)]
    rescored = list(scores)
    rnd.shuffle(rescored)
    assert tally_score(scores, options=OPTS) == tally_score(rescored, options=OPTS)


@settings(max_examples=80, deadline=None)
@given(st.lists(approvals, max_size=30), st.sampled_from(OPTS))
def test_adding_an_approval_for_x_never_hurts_x(sets: list, x: int) -> None:
    before = tally_approval([Ballot(s) for s in sets], options=OPTS)
    after = tally_approval([Ballot(s) for s in sets] + [Ballot((x,))], options=OPTS)
    assert after.totals[x] == before.totals[x] + 1
    assert after.ranking.index(x) <= before.ranking.index(x)
    if before.winner == x:
        assert after.winner == x


@settings(max_examples=80, deadline=None)
@given(st.dictionaries(st.sampled_from(OPTS), st.integers(-12, 12)), st.integers(0, 100))
def test_accepted_quadratic_ballots_never_exceed_the_budget(choice: dict, budget: int) -> None:
    try:
        accepted = quadratic_validate(choice, options=OPTS, budget=budget)
    except InvalidBallot:
        assert quadratic_cost(choice) > budget
    else:
        assert quadratic_cost(accepted) <= budget


def _pairwise_reference(ballots: list, options: list[int]) -> list[list[int]]:
    """The textbook definition, one ballot and one pair at a time."""
    n = len(options)
    d = [[0] * n for _ in range(n)]
    for ballot in ballots:
        place = {o: i for i, o in enumerate(ballot.choice)}
        for i, a in enumerate(options):
            for j, b in enumerate(options):
                if i != j and place.get(a, n) < place.get(b, n):
                    d[i][j] += ballot.weight
    return d


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(rankings, st.integers(1, 3)), max_size=40))
def test_schulze_pairwise_matrix_matches_the_definition(items: list) -> None:
    ballots = [Ballot(ranks, weight) for ranks, weight in items]
    assert tally_schulze(ballots, options=OPTS).pairwise == _pairwise_reference(ballots, OPTS)
