"""Delegation: transitive, cycle-free, overridden by a direct ballot, snapshotted at open."""

from __future__ import annotations

import pytest

from governance.models import Ballot
from governance.selectors import delegation_weight_carried
from governance.services import (
    category_settings_update,
    delegation_set,
    poll_close,
    poll_tally,
    vote_cast,
)
from portal.api.errors import DomainError
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def users(n: int) -> list:
    return [UserFactory(role="member") for _ in range(n)]


def test_delegation_is_transitive_and_direct_ballot_overrides(open_poll) -> None:
    a, b, c, d = users(4)
    delegation_set(delegator=a, delegate=b)
    delegation_set(delegator=b, delegate=c)
    poll = open_poll("yes_no", allow_delegation=True)
    assert delegation_weight_carried(poll=poll, user=c) == 2
    vote_cast(voter=c, poll=poll, choice="yes")
    vote_cast(voter=d, poll=poll, choice="no")
    assert poll_tally(poll=poll)["counts"]["yes"] == "3"  # a → b → c
    vote_cast(voter=a, poll=poll, choice="no")  # a votes directly: override
    counts = poll_tally(poll=poll)["counts"]
    assert (counts["yes"], counts["no"]) == ("2", "2")
    poll_close(poll=poll)
    assert sorted(Ballot.objects.filter(poll=poll).values_list("weight", flat=True)) == [1, 1, 2]


def test_delegation_snapshot_is_taken_at_open(open_poll) -> None:
    a, b, _c = users(3)
    poll = open_poll("yes_no", allow_delegation=True)
    delegation_set(delegator=a, delegate=b)  # after open: not in this poll
    vote_cast(voter=b, poll=poll, choice="yes")
    assert poll_tally(poll=poll)["counts"]["yes"] == "1"


def test_cycles_are_refused(db) -> None:
    a, b, c = users(3)
    delegation_set(delegator=a, delegate=b)
    delegation_set(delegator=b, delegate=c)
    with pytest.raises(DomainError) as err:
        delegation_set(delegator=c, delegate=a)
    assert err.value.code == "delegation_cycle"
    with pytest.raises(DomainError):
        delegation_set(delegator=a, delegate=a)


def test_category_delegation_takes_precedence(open_poll) -> None:
    from governance.services.delegation import delegation_resolve_first_hop

    a, b, c = users(3)
    delegation_set(delegator=a, delegate=b)
    delegation_set(delegator=a, delegate=c, category="budget")
    assert delegation_resolve_first_hop(user_id=a.pk, category="budget") == c.pk
    assert delegation_resolve_first_hop(user_id=a.pk, category="rfc") == b.pk


def test_stewards_disable_delegation_per_category(steward) -> None:
    a, b = users(2)
    category_settings_update(actor=steward, category="election", delegation_enabled=False)
    with pytest.raises(DomainError) as err:
        delegation_set(delegator=a, delegate=b, category="election")
    assert err.value.code == "delegation_disabled"
    with pytest.raises(DomainError):
        category_settings_update(actor=a, category="rfc", delegation_enabled=False)


def test_secret_polls_refuse_delegation(open_poll) -> None:
    with pytest.raises(DomainError) as err:
        open_poll("yes_no", visibility="secret", allow_delegation=True)
    assert err.value.code == "secret_no_delegation"
