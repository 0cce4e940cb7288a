"""Single choice, multiple choice (min/max selections, "none of the above") and approval.

A ballot's choice is a tuple of option ids. ``NONE_OF_THE_ABOVE`` (0) is a valid choice on
its own when the poll offers it, and cannot be combined with options. The winner is the
option with the largest total; ties go to the option listed first (see ``ranking``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from governance.tally.ranking import RankingResult, rank_totals
from governance.tally.types import Ballot, InvalidBallot, MajorityRule, OptionId, Quorum, Weight

NONE_OF_THE_ABOVE: OptionId = 0


def choice_validate(
    choice: Sequence[OptionId],
    *,
    options: Sequence[OptionId],
    min_selections: int = 1,
    max_selections: int = 1,
    allow_none: bool = False,
) -> tuple[OptionId, ...]:
    """Check one selection against the poll's options and limits; return it sorted."""
    picked = list(choice)
    if len(set(picked)) != len(picked):
        raise InvalidBallot("an option was selected twice", code="duplicate_option")
    if NONE_OF_THE_ABOVE in picked:
        if not allow_none:
            raise InvalidBallot("this poll has no 'none of the above'", code="unknown_option")
        if len(picked) != 1:
            raise InvalidBallot(
                "'none of the above' cannot be combined with options", code="invalid_choice"
            )
        return (NONE_OF_THE_ABOVE,)
    unknown = [o for o in picked if o not in set(options)]
    if unknown:
        raise InvalidBallot(f"unknown option ids: {unknown}", code="unknown_option")
    if len(picked) < min_selections:
        raise InvalidBallot(
            f"select at least {min_selections} option(s)", code="too_few_selections"
        )
    if len(picked) > max_selections:
        raise InvalidBallot(
            f"select at most {max_selections} option(s)", code="too_many_selections"
        )
    return tuple(sorted(picked))


def _count(
    ballots: Iterable[Ballot[Sequence[OptionId]]], options: list[OptionId]
) -> tuple[dict[OptionId, Weight], Weight, Weight]:
    totals: dict[OptionId, Weight] = dict.fromkeys(options, 0)
    none: Weight = 0
    turnout: Weight = 0
    for ballot in ballots:
        turnout += ballot.weight
        for option in ballot.choice:
            if option == NONE_OF_THE_ABOVE:
                none += ballot.weight
            elif option in totals:
                totals[option] += ballot.weight
            else:
                raise InvalidBallot(f"unknown option id {option}", code="unknown_option")
    return totals, none, turnout


def tally_choice(
    ballots: Iterable[Ballot[Sequence[OptionId]]],
    *,
    options: list[OptionId],
    quorum: Quorum | None = None,
    majority: MajorityRule | None = None,
    eligible: Weight = 0,
    method: str = "choice",
) -> RankingResult:
    """Plurality count. With a ``majority`` rule the winner must also carry it: its votes
    count "for", other options' votes "against" and "none of the above" as abstentions."""
    totals, none, turnout = _count(ballots, options)
    ranking, winner, tied = rank_totals(totals, options)
    quorum_met = (quorum or Quorum()).met(turnout=turnout, eligible=eligible)
    if winner is not None and totals[winner] == 0:
        winner = None
    if winner is not None and (none > totals[winner]):
        winner = None  # "none of the above" beat every option
    majority_met = True
    if winner is not None and majority is not None:
        others = sum((v for o, v in totals.items() if o != winner), 0)
        majority_met = majority.passes(
            yes=totals[winner], no=others, abstain=none, eligible=eligible
        )
        if not majority_met:
            winner = None
    if not quorum_met:
        winner = None
    return RankingResult(
        method,
        totals,
        ranking,
        winner,
        tied,
        turnout,
        quorum_met,
        {"none_of_the_above": str(none), "majority_met": majority_met},
    )


def tally_approval(
    ballots: Iterable[Ballot[Sequence[OptionId]]],
    *,
    options: list[OptionId],
    quorum: Quorum | None = None,
    eligible: Weight = 0,
) -> RankingResult:
    """Each voter approves any number of options; the most-approved option wins."""
    return tally_choice(
        ballots, options=options, quorum=quorum, eligible=eligible, method="approval"
    )
