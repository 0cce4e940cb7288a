"""Casting ballots, tallying and verifying receipts.

Receipts: ``sha256(canonical JSON of {"poll", "choice", "nonce"})``. The nonce is random,
returned once to the voter and never stored, so a receipt proves a ballot's content only to
whoever holds the nonce.
"""

from __future__ import annotations

import functools
import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from fractions import Fraction
from functools import partial
from typing import Any

from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone

from governance import tally
from governance.models import (
    Ballot,
    EligibleVoter,
    Method,
    Poll,
    PollStatus,
    Visibility,
)
from governance.selectors import participation_count
from governance.tally import InvalidBallot
from governance.topics import poll_event
from portal.api.errors import DomainError
from portal.audit import (
    audit_append,
    audit_entry_ctes,
    audit_entry_new,
    audit_head_cte,
    audit_head_seed,
    audit_params,
)
from portal.db import RowReader, hot_cursor
from portal.models.audit import AuditEntry
from portal.realtime.coalesce import Coalescer

TALLY_EVENT_INTERVAL = 2  # seconds


@dataclass(frozen=True)
class CastReceipt:
    """What the voter gets back: keep ``nonce`` to prove the ballot later."""

    poll_id: int
    receipt: str
    nonce: str
    ballot: str  # the canonical JSON that was hashed
    replaced: bool


def ballot_canonical(*, poll_id: int, choice: Any, nonce: str) -> str:
    return json.dumps(
        {"choice": choice, "nonce": nonce, "poll": poll_id}, sort_keys=True, separators=(",", ":")
    )


def receipt_hash(canonical: str) -> str:
    return hashlib.sha256(canonical.encode()).hexdigest()


def _option_ids(poll: Poll) -> list[int]:
    return list(poll.options.order_by("position").values_list("pk", flat=True))


# Option ids of polls that have opened: options are frozen at open, so each process reads
# them once. Keyed with the poll's timestamps too, so a reused id (a test database rolled
# back) can never hit another poll's entry.
_FROZEN_OPTIONS: dict[tuple[int, Any, Any], list[int]] = {}
_FROZEN_OPTIONS_MAX = 4096


def _frozen_option_ids(poll: Poll) -> list[int]:
    if poll.status == PollStatus.DRAFT:
        return _option_ids(poll)
    key = (poll.pk, poll.created_at, poll.opened_at)
    ids = _FROZEN_OPTIONS.get(key)
    if ids is None:
        ids = _option_ids(poll)
        if len(_FROZEN_OPTIONS) >= _FROZEN_OPTIONS_MAX:
            _FROZEN_OPTIONS.clear()
        _FROZEN_OPTIONS[key] = ids
    return ids


def _as_int(value: Any) -> int:
    if isinstance(value, bool):
        raise InvalidBallot("option ids are integers", code="unknown_option")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise InvalidBallot(f"{value!r} is not an option id", code="unknown_option") from None


def _as_list(choice: Any) -> list[int]:
    if not isinstance(choice, list | tuple):
        raise InvalidBallot("choice must be a list of option ids", code="invalid_choice")
    return [_as_int(v) for v in choice]


def _as_map(choice: Any) -> dict[int, int]:
    if not isinstance(choice, dict):
        raise InvalidBallot("choice must map option ids to numbers", code="invalid_choice")
    return {_as_int(k): v for k, v in choice.items()}


def choice_normalize(poll: Poll, choice: Any) -> Any:
    """Validate a submitted choice against the poll and return its stored JSON form."""
    method = poll.method
    if method == Method.YES_NO:
        return tally.binary_validate(choice, allow_block=poll.allow_block)
    if method == Method.LAZY_CONSENSUS:
        return tally.objection_validate(choice)
    options = _frozen_option_ids(poll)
    if method in (Method.SINGLE, Method.MULTIPLE, Method.APPROVAL):
        if method == Method.SINGLE and isinstance(choice, int | str):
            choice = [choice]
        picked = tally.choice_validate(
            _as_list(choice),
            options=options,
            min_selections=poll.min_selections,
            max_selections=poll.max_selections if method != Method.APPROVAL else len(options),
            allow_none=poll.allow_none,
        )
        return list(picked)
    if method in (Method.IRV, Method.SCHULZE):
        return list(tally.ranking_validate(_as_list(choice), options=options))
    if method == Method.SCORE:
        scores = tally.score_validate(_as_map(choice), options=options, max_score=poll.max_score)
        return {str(k): v for k, v in sorted(scores.items())}
    if method == Method.QUADRATIC:
        votes = tally.quadratic_validate(_as_map(choice), options=options, budget=poll.budget)
        return {str(k): v for k, v in sorted(votes.items())}
    raise InvalidBallot(f"unknown method {method}", code="invalid_choice")


def _unlinkable_id() -> int:
    """A random primary key: sequential ids would order ballots like participations."""
    return secrets.randbits(62) or 1


# ``selectors.polls_visible`` as hand-written SQL (compiling the ORM query cost more than
# running it), used by the read and the write: whether voter %(user)s may see poll p (of
# proposal pr). Stewards (%(sees_all)s) see every poll; others every poll not on someone
# else's draft proposal. tests/governance/test_cast_cost.py checks the two agree.
_POLL_ROWS = RowReader(Poll)
_SEES_POLL = """(
    %(sees_all)s OR p.proposal_id IS NULL OR pr.status <> 'draft'
    OR pr.author_id = %(user)s OR p.created_by_id = %(user)s
)"""
_POLL_FOR_CAST_SQL = f"""
SELECT {{columns}}, ev.weight AS voter_weight
FROM governance_poll p
LEFT JOIN governance_proposal pr ON pr.id = p.proposal_id
LEFT JOIN governance_eligiblevoter ev ON ev.poll_id = p.id AND ev.user_id = %(user)s
WHERE p.id = %(poll)s AND {_SEES_POLL}"""  # noqa: S608 - fixed SQL only


@functools.cache
def _poll_for_cast_sql(vendor: str) -> str:
    return _POLL_FOR_CAST_SQL.format(columns=_POLL_ROWS.columns("p"))


def _sees_all(voter: Any) -> bool:
    return bool(voter.has_role("steward"))


# Open polls as this process last read them. What a cast validates against (method,
# options, limits, visibility) is frozen when a poll opens, and the write checks again,
# under the poll's lock, that the poll is still open, visible to the voter and the one
# that was read (its ``opened_at``: ids of rolled-back polls are reused), and that the
# voter is in its electorate; so a cast on a known open poll skips the read.
_OPEN_POLLS: dict[int, Poll] = {}
_OPEN_POLLS_MAX = 4096


def _open_poll_remember(poll: Poll) -> None:
    if poll.status == PollStatus.OPEN and poll.opened_at is not None:
        if len(_OPEN_POLLS) >= _OPEN_POLLS_MAX:
            _OPEN_POLLS.clear()
        _OPEN_POLLS[poll.pk] = poll


def _poll_for_cast(poll_id: int, voter: Any) -> tuple[Poll | None, Decimal | None]:
    """One round trip: the poll's current row if ``voter`` may see it, and the voter's
    weight in its frozen electorate (``None``: not eligible). Unlocked: the write checks
    again that the poll is open, under its lock."""
    params = {"poll": poll_id, "user": voter.pk, "sees_all": _sees_all(voter)}
    with hot_cursor() as cursor:
        cursor.execute(_poll_for_cast_sql(connection.vendor), params)
        row = cursor.fetchone()
    if row is None:
        return None, None
    poll, (found,) = _POLL_ROWS.build(row)
    return poll, (None if found is None else Decimal(str(found)))


# On PostgreSQL a cast writes in one statement, in autocommit: share-lock the poll if it is
# still the open poll that was read and the voter may see it (``poll_close`` takes it
# exclusively, so no ballot commits after the final tally; a close that commits first
# leaves nothing to lock), find the voter's weight in its electorate, lock the audit
# chain's head, insert the participation row, then the ballot (a secret one only with a new
# participation row; a named one is upserted on (poll, voter)), and append the audit entry
# whose detail says whether the ballot replaced an earlier one. The head stays locked for
# this statement and its commit only, with no round trip to the portal in between.
_CAST_SQL_POSTGRESQL = f"""
WITH open_poll AS (
    SELECT p.id FROM governance_poll p
    LEFT JOIN governance_proposal pr ON pr.id = p.proposal_id
    WHERE p.id = %(poll)s AND p.opened_at = %(opened_at)s AND p.status = 'open'
      AND p.closes_at > %(now)s AND {_SEES_POLL}
    FOR SHARE OF p
), elector AS (
    SELECT weight FROM governance_eligiblevoter
    WHERE poll_id = %(poll)s AND user_id = %(user)s AND EXISTS (SELECT 1 FROM open_poll)
), {audit_head_cte(when="EXISTS (SELECT 1 FROM elector)")}, part AS (
    INSERT INTO governance_participation (poll_id, user_id, created_at)
    SELECT %(poll)s, %(user)s, %(now)s FROM audit_head
    ON CONFLICT (poll_id, user_id) DO NOTHING
    RETURNING id
), ballot AS (
    INSERT INTO governance_ballot (id, poll_id, voter_id, choice, weight, receipt, cast_at)
    SELECT %(id)s, %(poll)s, %(voter)s, %(choice)s::jsonb, elector.weight, %(receipt)s,
           %(cast_at)s
    FROM audit_head, elector
    WHERE %(may_replace)s OR EXISTS (SELECT 1 FROM part)
    ON CONFLICT (poll_id, voter_id) DO UPDATE
        SET choice = EXCLUDED.choice, receipt = EXCLUDED.receipt, cast_at = EXCLUDED.cast_at
    RETURNING id
), {
    audit_entry_ctes(
        when="EXISTS (SELECT 1 FROM ballot)",
        prefix="CASE WHEN EXISTS (SELECT 1 FROM part) "
        "THEN %(audit_prefix)s ELSE %(audit_prefix_replaced)s END",
        detail="CASE WHEN EXISTS (SELECT 1 FROM part) "
        "THEN %(audit_detail)s ELSE %(audit_detail_replaced)s END",
    )
}
SELECT EXISTS (SELECT 1 FROM open_poll), EXISTS (SELECT 1 FROM elector),
       EXISTS (SELECT 1 FROM audit_head), EXISTS (SELECT 1 FROM part),
       EXISTS (SELECT 1 FROM audit_moved)
"""  # noqa: S608 - fixed SQL only


def _not_eligible() -> DomainError:
    return DomainError(
        "you are not eligible to vote in this poll", code="not_eligible", status_code=403
    )


def _closed(poll: Poll) -> DomainError:
    closed_at = poll.closed_at or poll.closes_at
    return DomainError(
        f"the poll closed at {closed_at:%Y-%m-%d %H:%M} UTC", code="poll_closed", status_code=409
    )


@dataclass(frozen=True)
class _Cast:
    """What the voter cast, ready to store."""

    poll: Poll
    user: Any
    secret: bool
    choice: Any
    weight: Decimal | None  # read by the write on PostgreSQL
    receipt: str
    cast_at: datetime
    audit: dict[bool, AuditEntry]  # the entry as first cast (True) and as replacement


class _PollChanged(Exception):
    """The write found the poll no longer open (or not the one read, or hidden)."""


def _cast_store_postgresql(cast: _Cast, now: datetime) -> bool:
    """Write the cast in one statement; returns whether it was the voter's first."""
    adapt = connection.ops.adapt_datetimefield_value
    first, again = cast.audit[True], cast.audit[False]
    params = {
        "poll": cast.poll.pk,
        "opened_at": adapt(cast.poll.opened_at),
        "user": cast.user.pk,
        "sees_all": _sees_all(cast.user),
        "now": adapt(now),
        "id": _unlinkable_id(),
        "voter": None if cast.secret else cast.user.pk,
        "choice": json.dumps(cast.choice),
        "receipt": cast.receipt,
        "cast_at": adapt(cast.cast_at),
        "may_replace": not cast.secret,
        **audit_params(first),
        "audit_prefix_replaced": audit_params(again)["audit_prefix"],
        "audit_detail_replaced": json.dumps(again.detail),
    }
    for attempt in range(2):
        with hot_cursor() as cursor:
            cursor.execute(_CAST_SQL_POSTGRESQL, params)
            is_open, eligible, has_head, inserted, audited = cursor.fetchone()
        if not is_open:
            raise _PollChanged
        if not eligible:
            raise _not_eligible()
        if has_head:
            break
        if attempt:
            raise RuntimeError("the audit chain has no head")
        audit_head_seed()  # a fresh or flushed database: nothing was written
    if cast.secret and not inserted:
        return False
    if not audited:  # every statement of it runs in one transaction: cannot happen
        raise RuntimeError("a ballot was cast without its audit entry")
    return bool(inserted)


def _cast_store(cast: _Cast) -> bool:
    """Write the participation row and the ballot, and append the audit entry (in the
    caller's transaction); returns whether this was the voter's first cast.

    The (poll, user) participation row admits one first cast, decided by the unique
    constraint (concurrent first casts cannot both win); a secret ballot is only written
    with it, a named one is upserted on (poll, voter).
    """
    if cast.weight is None:
        raise ValueError("the voter's weight is read with the poll elsewhere than PostgreSQL")
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO governance_participation (poll_id, user_id, created_at) "
            "VALUES (%s, %s, %s) ON CONFLICT (poll_id, user_id) DO NOTHING RETURNING id",
            [cast.poll.pk, cast.user.pk, connection.ops.adapt_datetimefield_value(now)],
        )
        first = cursor.fetchone() is not None
    if cast.secret and not first:
        return False
    ballot = Ballot(
        id=_unlinkable_id(),
        poll=cast.poll,
        voter_id=None if cast.secret else cast.user.pk,
        choice=cast.choice,
        weight=cast.weight,
        receipt=cast.receipt,
        cast_at=cast.cast_at,
    )
    Ballot.objects.bulk_create(
        [ballot],
        update_conflicts=not cast.secret,
        unique_fields=None if cast.secret else ["poll", "voter"],
        update_fields=None if cast.secret else ["choice", "receipt", "cast_at"],
    )
    audit_append(cast.audit[first])
    return first


def _live_interval() -> float:
    # The flusher thread cannot reach sockets of the in-memory layer (single-process
    # development): there every cast sends its own event.
    if isinstance(get_channel_layer(), InMemoryChannelLayer):
        return 0.0
    return float(settings.GOVERNANCE_LIVE_INTERVAL_MS) / 1000


_PARTICIPATION = Coalescer(_live_interval, "poll-participation")


def participation_publish(poll_id: int, eligible: int) -> None:
    """Send the poll's participation count as it is now (committed casts only)."""
    poll_event(
        poll_id,
        "poll.participation",
        {"ballots": participation_count(poll=poll_id), "eligible": eligible},
    )


def _tally_interval() -> float:
    return float(TALLY_EVENT_INTERVAL) if _live_interval() > 0 else 0.0


# A running tally costs a full count, so it is computed off the request, on the coalescer's
# thread, at most once per poll per interval and process (and once more after a burst).
_TALLY = Coalescer(_tally_interval, "poll-tally")


def tally_publish(poll_id: int) -> None:
    """Send a named poll's running tally, unless another process sent one within the
    interval (pages also refetch results after participation events)."""
    if not cache.add(f"governance:tally-sent:{poll_id}", 1, timeout=TALLY_EVENT_INTERVAL):
        return
    poll = Poll.objects.filter(pk=poll_id, status=PollStatus.OPEN).first()
    if poll is not None:
        poll_event(poll.pk, "poll.tally", {"result": poll_tally(poll=poll)})


def _publish_after_cast(poll: Poll) -> None:
    """After commit: the participation count (coalesced: at most one event per poll per
    interval and process, the last one counted after the burst's last commit) and, for a
    named poll, its running tally (computed on the coalescer's thread)."""
    _PARTICIPATION.poke(poll.pk, partial(participation_publish, poll.pk, poll.eligible_count))
    if poll.visibility == Visibility.NAMED:
        _TALLY.poke(poll.pk, partial(tally_publish, poll.pk), defer=True)


def _cast_audit_entries(voter: Any, poll: Poll, detail: dict[str, Any]) -> dict[bool, AuditEntry]:
    """The cast's audit entry as a first cast (True) and as a replacement (False): the
    same entry but for ``replaced``, since which one it is is decided by the write."""
    entries = {
        first: audit_entry_new(
            actor=voter,
            action="governance.ballot.cast",
            obj=poll,
            detail={"replaced": not first, **detail},
        )
        for first in (True, False)
    }
    entries[False].created_at = entries[True].created_at
    return entries


def vote_cast(
    *, voter: Any, poll: Poll | int, choice: Any, now: datetime | None = None
) -> CastReceipt:
    """Cast (or, for named and anonymous-on-close polls, replace) the voter's ballot.

    Exactly one counted ballot per voter is guaranteed by unique constraints, not by a
    check-then-insert: named ballots are upserted on (poll, voter); secret ballots carry no
    voter, and the (poll, user) participation row admits only the first cast. ``poll`` is
    a poll or its id; one the voter cannot see is "not found".

    One query reads the poll with the voter's eligibility (skipped on PostgreSQL for a poll
    this process knows to be open, see ``_OPEN_POLLS``), the ballot is validated in memory,
    and one write stores it with its audit entry: on PostgreSQL a single statement (see
    ``_CAST_SQL_POSTGRESQL``), elsewhere a short transaction. Events are published after
    commit.
    """
    now = now or timezone.now()
    poll_id = poll if isinstance(poll, int) else poll.pk
    known = _OPEN_POLLS.get(poll_id) if connection.vendor == "postgresql" else None
    if known is not None and now < known.closes_at:
        try:
            normalized = choice_normalize(known, choice)
        except InvalidBallot:
            pass  # reported below, after the checks that come first
        else:
            try:
                return _cast_write(voter, known, normalized, now)
            except _PollChanged:
                _OPEN_POLLS.pop(poll_id, None)
    current, weight = _poll_for_cast(poll_id, voter)
    if current is None:
        raise DomainError("no such poll", code="not_found", status_code=404)
    if current.status == PollStatus.DRAFT or (current.opens_at and now < current.opens_at):
        raise DomainError("the poll is not open yet", code="poll_not_open", status_code=409)
    if current.status == PollStatus.CLOSED or now >= current.closes_at:
        raise _closed(current)
    if weight is None:
        raise _not_eligible()
    if connection.vendor == "postgresql":
        _open_poll_remember(current)
    try:
        normalized = choice_normalize(current, choice)
    except InvalidBallot as exc:
        raise DomainError(str(exc), code=exc.code, fields={"choice": [str(exc)]}) from None
    try:
        return _cast_write(voter, current, normalized, now, weight)
    except _PollChanged:
        raise _closed(current) from None


def _cast_write(
    voter: Any, poll: Poll, choice: Any, now: datetime, weight: Decimal | None = None
) -> CastReceipt:
    """Store a validated ballot with its receipt and audit entry. ``weight`` (elsewhere
    than PostgreSQL, whose write reads it) is the voter's in the electorate."""
    nonce = secrets.token_hex(16)
    canonical = ballot_canonical(poll_id=poll.pk, choice=choice, nonce=nonce)
    receipt = receipt_hash(canonical)
    secret = poll.visibility == Visibility.SECRET
    # Only named polls may tie a voter to a ballot in the audit log: a receipt there would
    # undo secrecy (and anonymity after close).
    detail: dict[str, Any] = {}
    if poll.visibility == Visibility.NAMED:
        detail.update(choice=choice, receipt=receipt)
    cast = _Cast(
        poll=poll,
        user=voter,
        secret=secret,
        choice=choice,
        weight=weight,
        receipt=receipt,
        # No timestamp may link a secret ballot to its participation row.
        cast_at=(poll.opens_at or poll.opened_at or now) if secret else now,
        audit=_cast_audit_entries(voter, poll, detail),
    )
    if connection.vendor == "postgresql":
        first = _cast_store_postgresql(cast, now)
    else:
        # SQLite (development) serialises writing transactions, which begin with the
        # write lock, so the poll is checked again inside.
        with transaction.atomic():
            if not Poll.objects.filter(
                pk=poll.pk, status=PollStatus.OPEN, closes_at__gt=now
            ).exists():
                raise _PollChanged
            first = _cast_store(cast)
    if secret and not first:
        raise DomainError(
            "you have already voted; secret ballots cannot be changed",
            code="already_voted",
            status_code=409,
        )
    transaction.on_commit(partial(_publish_after_cast, poll), robust=True)
    return CastReceipt(poll.pk, receipt, nonce, canonical, not first)


def _weights_resolved(poll: Poll) -> dict[int, Decimal]:
    """Each voter's own weight plus the weight delegated to them (transitively) by eligible
    members who did not vote themselves — a direct ballot overrides the delegation."""
    electorate = list(
        EligibleVoter.objects.filter(poll=poll).values_list("user_id", "weight", "delegate_id")
    )
    voted = set(
        Ballot.objects.filter(poll=poll, voter__isnull=False).values_list("voter_id", flat=True)
    )
    own = {user: weight for user, weight, _ in electorate}
    hop = {user: delegate for user, _, delegate in electorate if delegate}
    resolved = {user: own[user] for user in voted if user in own}
    for user, weight, _ in electorate:
        if user in voted:
            continue
        current, seen = hop.get(user), {user}
        while current is not None and current not in voted and current not in seen:
            seen.add(current)
            current = hop.get(current)
        if current is not None and current in voted:
            resolved[current] += weight
    return resolved


def ballot_weights_settle(*, poll: Poll) -> None:
    """Write the delegated weights onto the ballots (before names may be removed), so the
    published ballot list alone reproduces the tally."""
    if poll.visibility == Visibility.SECRET or not poll.allow_delegation:
        return
    resolved = _weights_resolved(poll)
    for ballot in Ballot.objects.filter(poll=poll, voter__isnull=False):
        weight = resolved.get(ballot.voter_id, ballot.weight)  # type: ignore[arg-type]
        if weight != ballot.weight:
            Ballot.objects.filter(pk=ballot.pk).update(weight=weight)


def _weight(value: Decimal) -> int | Decimal:
    return int(value) if value == value.to_integral_value() else value


def ballots_for_tally(poll: Poll) -> list[tally.Ballot[Any]]:
    resolved = (
        _weights_resolved(poll)
        if poll.status == PollStatus.OPEN
        and poll.allow_delegation
        and poll.visibility != Visibility.SECRET
        else {}
    )
    rows = Ballot.objects.filter(poll=poll).values_list("choice", "weight", "voter_id")
    return [
        tally.Ballot(
            _choice_from_json(poll.method, choice),
            _weight(resolved.get(voter, weight) if voter else weight),
        )
        for choice, weight, voter in rows
    ]


def _choice_from_json(method: str, choice: Any) -> Any:
    if method in (Method.SCORE, Method.QUADRATIC):
        return {int(k): v for k, v in choice.items()}
    if isinstance(choice, list):
        return tuple(choice)
    return choice


def tally_compute(poll: Poll, ballots: list[tally.Ballot[Any]]) -> dict[str, Any]:
    """Run the poll's tally function on ``ballots`` with the poll's rules."""
    options = _option_ids(poll)
    eligible = _weight(poll.eligible_weight)
    quorum = tally.Quorum(count=poll.quorum_count, percent=Fraction(str(poll.quorum_percent)))
    majority = tally.MajorityRule(
        poll.majority_kind,  # type: ignore[arg-type]
        poll.majority_base,  # type: ignore[arg-type]
        Fraction(str(poll.majority_fraction)) if poll.majority_fraction else None,
    )
    method = poll.method
    result: Any
    if method == Method.YES_NO:
        result = tally.tally_binary(
            ballots,
            majority=majority,
            quorum=quorum,
            eligible=eligible,
            allow_block=poll.allow_block,
        )
    elif method == Method.SINGLE:
        result = tally.tally_choice(
            ballots, options=options, quorum=quorum, majority=majority, eligible=eligible
        )
    elif method == Method.MULTIPLE:
        result = tally.tally_choice(
            ballots, options=options, quorum=quorum, eligible=eligible, method="multiple"
        )
    elif method == Method.APPROVAL:
        result = tally.tally_approval(ballots, options=options, quorum=quorum, eligible=eligible)
    elif method == Method.IRV:
        result = tally.tally_irv(ballots, options=options, quorum=quorum, eligible=eligible)
    elif method == Method.SCHULZE:
        result = tally.tally_schulze(ballots, options=options, quorum=quorum, eligible=eligible)
    elif method == Method.SCORE:
        result = tally.tally_score(ballots, options=options, quorum=quorum, eligible=eligible)
    elif method == Method.QUADRATIC:
        result = tally.tally_quadratic(
            ballots, options=options, budget=poll.budget, quorum=quorum, eligible=eligible
        )
    else:
        result = tally.tally_lazy_consensus(ballots)
    data: dict[str, Any] = result.as_dict()
    data["ballots"] = len(ballots)
    data["labels"] = {str(o.pk): o.label for o in poll.options.all()}
    return data


def poll_tally(*, poll: Poll) -> dict[str, Any]:
    return tally_compute(poll, ballots_for_tally(poll))


def ballot_verify(*, poll: Poll, receipt: str, nonce: str | None = None) -> dict[str, Any]:
    """Is the receipt among the poll's counted ballots? With the nonce, also recompute the
    hash from the stored choice, proving the ballot counted is the one that was cast."""
    receipt = (receipt or "").strip().lower()
    if len(receipt) != 64 or any(c not in "0123456789abcdef" for c in receipt):
        raise DomainError("a receipt is 64 hexadecimal characters", code="bad_receipt")
    ballot = Ballot.objects.filter(poll=poll, receipt=receipt).first()
    answer: dict[str, Any] = {"receipt": receipt, "included": ballot is not None}
    if ballot is not None and nonce:
        canonical = ballot_canonical(poll_id=poll.pk, choice=ballot.choice, nonce=nonce.strip())
        answer["matches"] = receipt_hash(canonical) == receipt
        if answer["matches"]:
            answer["choice"] = ballot.choice
    return answer
