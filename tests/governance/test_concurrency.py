"""50 simultaneous casts by one voter count once (PostgreSQL, real threads)."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.utils import timezone

from governance.models import Ballot, Participation
from governance.services import poll_create, poll_open, poll_tally, vote_cast
from portal.api.errors import DomainError
from tests.factories import UserFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _open_poll(title: str, **rules):
    """(maintainer, an open yes/no poll for every member)."""
    maintainer = UserFactory(role="maintainer")
    poll = poll_create(
        actor=maintainer,
        title=title,
        method="yes_no",
        closes_at=timezone.now() + timedelta(days=1),
        **rules,
    )
    return maintainer, poll_open(poll=poll, actor=maintainer)


def _record_cast(outcomes: list[str], voter, poll, choice="yes") -> None:
    """Cast from a thread: "cast", or the refusal's code, goes to ``outcomes``."""
    try:
        vote_cast(voter=voter, poll=poll.pk, choice=choice)
        outcomes.append("cast")
    except DomainError as exc:
        outcomes.append(exc.code)
    finally:
        connections.close_all()


def cast_concurrently(poll, voter, choices: list) -> tuple[int, list[str]]:
    barrier = threading.Barrier(len(choices))
    outcomes: list[str] = []

    def run(choice) -> None:
        barrier.wait(timeout=30)
        _record_cast(outcomes, voter, poll, choice)

    threads = [threading.Thread(target=run, args=(c,)) for c in choices]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return outcomes.count("cast"), [o for o in outcomes if o != "cast"]


@pytest.mark.parametrize("visibility", ["named", "secret"])
def test_fifty_simultaneous_casts_count_once(visibility: str) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (run under `make test`)")
    voter = UserFactory(role="member")  # before the poll opens: the electorate is frozen
    _, poll = _open_poll("race", visibility=visibility)
    ok, errors = cast_concurrently(poll, voter, ["yes", "no"] * 25)
    assert Ballot.objects.filter(poll=poll).count() == 1
    assert Participation.objects.filter(poll=poll).count() == 1
    counts = poll_tally(poll=poll)["counts"]
    assert sum(int(v) for v in counts.values()) == 1
    if visibility == "secret":
        assert ok == 1 and errors == ["already_voted"] * 49
    else:
        assert ok == 50 and not errors


def test_a_cast_waiting_on_a_closing_poll_is_refused_and_writes_nothing() -> None:
    """The write re-checks the poll under its lock: a close in progress holds the poll
    row, the cast waits for it, then finds the poll closed (409) and stores nothing."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (run under `make test`)")
    from django.db import transaction

    from governance.models import Poll, PollStatus
    from portal.models import AuditEntry

    voter = UserFactory(role="member")
    _, poll = _open_poll("closing")
    entries_before = AuditEntry.objects.count()
    outcome: list[str] = []
    started = threading.Event()

    def cast() -> None:
        started.set()
        _record_cast(outcome, voter, poll)

    with transaction.atomic():
        Poll.objects.select_for_update().filter(pk=poll.pk).update(status=PollStatus.CLOSED)
        thread = threading.Thread(target=cast)
        thread.start()
        started.wait(10)
        thread.join(timeout=1)
        assert thread.is_alive(), "the cast should wait for the closing transaction"
    thread.join(timeout=30)
    assert outcome == ["poll_closed"]
    assert not Ballot.objects.filter(poll=poll).exists()
    assert not Participation.objects.filter(poll=poll).exists()
    assert AuditEntry.objects.count() == entries_before


def test_casts_racing_a_close_are_all_in_the_final_tally_or_refused() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (run under `make test`)")
    from governance.models import Poll
    from governance.services import poll_close
    from portal.audit import audit_verify

    voters = [UserFactory(role="member") for _ in range(24)]
    maintainer, poll = _open_poll("race the close")
    barrier = threading.Barrier(len(voters) + 1)
    outcomes: list[str] = []

    def cast(voter) -> None:
        barrier.wait(timeout=30)
        _record_cast(outcomes, voter, poll)

    def close() -> None:
        try:
            barrier.wait(timeout=30)
            poll_close(poll=Poll.objects.get(pk=poll.pk), actor=maintainer)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=cast, args=(v,)) for v in voters]
    threads.append(threading.Thread(target=close))
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    poll.refresh_from_db()
    stored = Ballot.objects.filter(poll=poll).count()
    assert set(outcomes) <= {"cast", "poll_closed"}
    assert outcomes.count("cast") == stored
    assert int(poll.result["counts"]["yes"]) == stored  # no ballot committed after the tally
    assert audit_verify().ok
