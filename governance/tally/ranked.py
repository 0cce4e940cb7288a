"""Ranked-choice methods: instant-runoff (IRV) and Schulze (Condorcet).

A ballot's choice is a tuple of option ids, most preferred first. Partial rankings are
allowed; an option may appear only once.

Tie-breaks (deterministic, documented):
- IRV: when several options share the fewest votes, eliminate the one with the fewest votes
  in the latest earlier round where they differ ("backwards" tie-break); if they were tied
  in every round, eliminate the one listed *last* on the poll.
- Schulze: among options that are equally strong (or several Schulze winners), the option
  listed first on the poll ranks higher. Ties are reported in ``tied``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import compress
from operator import lt, ne
from typing import Any

from governance.tally.types import Ballot, InvalidBallot, OptionId, Quorum, Weight, order_key


def ranking_validate(
    choice: Sequence[OptionId], *, options: Sequence[OptionId], require_complete: bool = False
) -> tuple[OptionId, ...]:
    ranks = list(choice)
    if len(set(ranks)) != len(ranks):
        raise InvalidBallot("each option may be ranked only once", code="duplicate_rank")
    known = set(options)
    unknown = [o for o in ranks if o not in known]
    if unknown:
        raise InvalidBallot(f"unknown option ids: {unknown}", code="unknown_option")
    if not ranks:
        raise InvalidBallot("rank at least one option", code="too_few_selections")
    if require_complete and len(ranks) != len(known):
        raise InvalidBallot("rank every option", code="too_few_selections")
    return tuple(ranks)


def _rankings_check(rankings: Iterable[tuple[int, ...]], options: Sequence[OptionId]) -> None:
    """Validate many rankings at C speed; fall back to the per-ballot message on failure."""
    keys = list(rankings)
    bad_ids = set().union(*keys) - set(options)
    duplicated = any(map(ne, map(len, keys), map(len, map(set, keys))))
    empty = not all(keys)
    if bad_ids or duplicated or empty:
        for ranks in keys:
            ranking_validate(ranks, options=options)


def _aggregate(
    ballots: Iterable[Ballot[Sequence[OptionId]]],
) -> tuple[dict[tuple[int, ...], Weight], Weight]:
    """Group identical rankings: 100,000 ballots usually hold far fewer distinct ones."""
    grouped: dict[tuple[int, ...], Weight] = {}
    turnout: Weight = 0
    for ballot in ballots:
        key = tuple(ballot.choice)
        grouped[key] = grouped.get(key, 0) + ballot.weight
        turnout += ballot.weight
    return grouped, turnout


@dataclass(frozen=True)
class IrvRound:
    counts: dict[OptionId, Weight]
    exhausted: Weight
    eliminated: OptionId | None


@dataclass(frozen=True)
class IrvResult:
    rounds: list[IrvRound]
    winner: OptionId | None
    turnout: Weight
    quorum_met: bool
    tie_broken: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "method": "irv",
            "rounds": [
                {
                    "counts": {str(k): str(v) for k, v in r.counts.items()},
                    "exhausted": str(r.exhausted),
                    "eliminated": r.eliminated,
                }
                for r in self.rounds
            ],
            "winner": self.winner,
            "turnout": str(self.turnout),
            "quorum_met": self.quorum_met,
            "tie_broken": self.tie_broken,
        }


def tally_irv(
    ballots: Iterable[Ballot[Sequence[OptionId]]],
    *,
    options: list[OptionId],
    quorum: Quorum | None = None,
    eligible: Weight = 0,
) -> IrvResult:
    """Eliminate the weakest option round by round until one holds a majority of the
    ballots still in play (exhausted ballots drop out of the denominator)."""
    grouped, turnout = _aggregate(ballots)
    position = order_key(options)
    _rankings_check(grouped, options)
    continuing = set(options)
    # piles[o] = list of (ranking, weight, index of the preference currently counted)
    piles: dict[OptionId, list[tuple[tuple[int, ...], Weight, int]]] = defaultdict(list)
    counts: dict[OptionId, Weight] = dict.fromkeys(options, 0)
    exhausted: Weight = 0

    def place(ranks: tuple[int, ...], weight: Weight, start: int) -> None:
        nonlocal exhausted
        for index in range(start, len(ranks)):
            if ranks[index] in continuing:
                piles[ranks[index]].append((ranks, weight, index))
                counts[ranks[index]] += weight
                return
        exhausted += weight

    for ranks, weight in grouped.items():
        place(ranks, weight, 0)

    rounds: list[IrvRound] = []
    history: list[dict[OptionId, Weight]] = []
    winner: OptionId | None = None
    tie_broken = False
    while continuing:
        snapshot = {o: counts[o] for o in options if o in continuing}
        active = sum(snapshot.values(), 0)
        leader = min(continuing, key=lambda o: (-snapshot[o], position[o]))
        if active == 0:
            rounds.append(IrvRound(snapshot, exhausted, None))
            break
        if snapshot[leader] * 2 > active or len(continuing) == 1:
            winner = leader
            rounds.append(IrvRound(snapshot, exhausted, None))
            break
        fewest = min(snapshot.values())
        tied = [o for o in continuing if snapshot[o] == fewest]
        if len(tied) > 1:
            tie_broken = True
            for earlier in reversed(history):
                low = min(earlier[o] for o in tied)
                tied = [o for o in tied if earlier[o] == low]
                if len(tied) == 1:
                    break
        loser = max(tied, key=lambda o: position[o])
        rounds.append(IrvRound(snapshot, exhausted, loser))
        history.append(snapshot)
        continuing.discard(loser)
        counts[loser] = 0
        for ranks, weight, index in piles.pop(loser, []):
            place(ranks, weight, index + 1)
    quorum_met = (quorum or Quorum()).met(turnout=turnout, eligible=eligible)
    return IrvResult(rounds, winner if quorum_met else None, turnout, quorum_met, tie_broken)


@dataclass(frozen=True)
class SchulzeResult:
    options: list[OptionId]
    pairwise: list[list[Weight]]
    strongest_paths: list[list[Weight]]
    ranking: list[OptionId]
    winner: OptionId | None
    tied: list[OptionId]
    turnout: Weight
    quorum_met: bool
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "method": "schulze",
            "options": self.options,
            "pairwise": [[str(v) for v in row] for row in self.pairwise],
            "strongest_paths": [[str(v) for v in row] for row in self.strongest_paths],
            "ranking": self.ranking,
            "winner": self.winner,
            "tied": self.tied,
            "turnout": str(self.turnout),
            "quorum_met": self.quorum_met,
        }


def tally_schulze(
    ballots: Iterable[Ballot[Sequence[OptionId]]],
    *,
    options: list[OptionId],
    quorum: Quorum | None = None,
    eligible: Weight = 0,
) -> SchulzeResult:
    """``pairwise[i][j]`` = weight preferring options[i] to options[j] (ranked options beat
    unranked ones; unranked are tied). ``strongest_paths`` by the widest-path algorithm."""
    grouped, turnout = _aggregate(ballots)
    n = len(options)
    index = {o: i for i, o in enumerate(options)}
    everyone = range(n)
    _rankings_check(grouped, options)
    # Position of every option on every distinct ballot (unranked options share the last
    # place), then each pairwise count is one C-level pass: d[i][j] = Σ weight·[pos_i < pos_j].
    rows = []
    for ranks in grouped:
        position = [n] * n
        for place, option in enumerate(ranks):
            position[index[option]] = place
        rows.append(position)
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in everyone]
    weights = list(grouped.values())
    unit = all(type(w) is int and w == 1 for w in weights)
    # Each ballot puts i ahead of j, j ahead of i, or leaves both unranked (a tie), so
    # d[j][i] = total - d[i][j] - tied[i][j]: one pass per unordered pair, not two.
    total: Weight = sum(weights, 0)
    by_ranked: dict[frozenset[int], Weight] = {}
    for ranks, weight in grouped.items():
        key = frozenset(ranks)
        by_ranked[key] = by_ranked.get(key, 0) + weight
    tied: list[list[Weight]] = [[0] * n for _ in everyone]
    for ranked, weight in by_ranked.items():
        unranked = [index[o] for o in options if o not in ranked]
        for a_pos, a in enumerate(unranked):
            for b in unranked[a_pos + 1 :]:
                tied[a][b] += weight
    d: list[list[Weight]] = [[0] * n for _ in everyone]
    for i in everyone:
        for j in range(i + 1, n):
            ahead = map(lt, columns[i], columns[j])
            d[i][j] = sum(ahead) if unit else sum(compress(weights, ahead), 0)
            d[j][i] = total - d[i][j] - tied[i][j]
    p: list[list[Weight]] = [[0] * n for _ in range(n)]
    for i in everyone:
        for j in everyone:
            if i != j and d[i][j] > d[j][i]:
                p[i][j] = d[i][j]
    for i in everyone:
        for j in everyone:
            if i == j:
                continue
            pji = p[j][i]
            if not pji:
                continue
            row_j, row_i = p[j], p[i]
            for k in everyone:
                if k != i and k != j:
                    via: Weight = pji if pji < row_i[k] else row_i[k]
                    if via > row_j[k]:
                        row_j[k] = via
    wins = [sum(1 for j in everyone if j != i and p[i][j] > p[j][i]) for i in everyone]
    order = sorted(everyone, key=lambda i: (-wins[i], i))
    ranking = [options[i] for i in order]
    winners = [options[i] for i in everyone if all(p[i][j] >= p[j][i] for j in everyone if j != i)]
    quorum_met = (quorum or Quorum()).met(turnout=turnout, eligible=eligible)
    winner = winners[0] if winners and turnout and quorum_met else None
    return SchulzeResult(
        options, d, p, ranking, winner, winners if len(winners) > 1 else [], turnout, quorum_met
    )
