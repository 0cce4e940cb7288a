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


def cast_concurrently(poll, voter, choices: list) -> tuple[int, list[str]]:
    barrier = threading.Barrier(len(choices))
    ok, errors = [], []

    def run(choice) -> None:
        try:
            barrier.wait(timeout=30)
            vote_cast(voter=voter, poll=poll, choice=choice)
            ok.append(choice)
        except DomainError as exc:
            errors.append(exc.code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(c,)) for c in choices]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return len(ok), errors


@pytest.mark.parametrize("visibility", ["named", "secret"])
def test_fifty_simultaneous_casts_count_once(visibility: str) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (run under `make test`)")
    maintainer = UserFactory(role="maintainer")
    voter = UserFactory(role="member")
    poll = poll_create(
        actor=maintainer,
        title="race",
        method="yes_no",
        visibility=visibility,
        closes_at=timezone.now() + timedelta(days=1),
    )
    poll_open(poll=poll, actor=maintainer)
    ok, errors = cast_concurrently(poll, voter, ["yes", "no"] * 25)
    assert Ballot.objects.filter(poll=poll).count() == 1
    assert Participation.objects.filter(poll=poll).count() == 1
    counts = poll_tally(poll=poll)["counts"]
    assert sum(int(v) for v in counts.values()) == 1
    if visibility == "secret":
        assert ok == 1 and errors == ["already_voted"] * 49
    else:
        assert ok == 50 and not errors
