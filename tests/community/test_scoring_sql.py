"""The grouped SQL scoring equals the one-contribution-at-a-time reference, to the digit."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from community.defaults import defaults_ensure
from community.models import Contribution, ContributionType, Review
from community.services.contributions import contributor_for
from community.services.epochs import (
    _score_python,
    _score_sql,
    epoch_allocation_compute,
    epoch_open,
)
from community.services.scoring import PolicyScorer
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

contribution_st = st.tuples(
    st.integers(0, 2),  # contributor
    st.integers(0, 40),  # type (modulo the number of types)
    st.sampled_from(["small", "medium", "large"]),
    st.lists(st.integers(1, 5), max_size=3),  # approving reviewers' ratings
    st.booleans(),  # already bound to the epoch, or approved and waiting for the close
)


@pytest.fixture
def world():
    defaults_ensure()
    users = [UserFactory(role="member") for _ in range(3)]
    reviewers = [UserFactory(role="maintainer") for _ in range(3)]
    now = timezone.now()
    epoch = epoch_open(
        actor=None,
        name="scoring",
        starts_at=now - timedelta(days=10),
        ends_at=now + timedelta(days=1),
        currency="USD",
        pool_amount="1000.00",
    )
    return {
        "contributors": [contributor_for(u) for u in users],
        "reviewers": reviewers,
        "types": list(ContributionType.objects.order_by("id")),
        "epoch": epoch,
        "now": now,
    }


@settings(
    max_examples=30,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(contributions=st.lists(contribution_st, max_size=12))
def test_sql_scoring_matches_the_reference(world, contributions):
    epoch = world["epoch"]
    savepoint = transaction.savepoint()
    try:
        for who, type_index, effort, ratings, bound in contributions:
            contribution = Contribution.objects.create(
                contributor=world["contributors"][who],
                type=world["types"][type_index % len(world["types"])],
                title="work",
                effort=effort,
                status="approved",
                approved_at=world["now"] - timedelta(hours=1),
                epoch=epoch if bound else None,
            )
            for reviewer, rating in zip(world["reviewers"], ratings, strict=False):
                Review.objects.create(
                    contribution=contribution, reviewer=reviewer, decision="approve", rating=rating
                )
        scorer = PolicyScorer(epoch.policy)
        for include_unbound in (True, False):
            fast = _score_sql(epoch, scorer, include_unbound=include_unbound)
            slow = _score_python(epoch, scorer, include_unbound=include_unbound)
            assert fast is not None
            assert {k: (r.points, r.contributions) for k, r in fast.items()} == {
                k: (r.points, r.contributions) for k, r in slow.items()
            }
    finally:
        transaction.savepoint_rollback(savepoint)


def test_an_effort_outside_the_price_table_falls_back_to_the_reference(world):
    epoch = world["epoch"]
    Contribution.objects.create(
        contributor=world["contributors"][0],
        type=world["types"][0],
        title="odd",
        effort="epic",  # not a choice: written past the service layer
        status="approved",
        approved_at=world["now"] - timedelta(hours=1),
    )
    assert _score_sql(epoch, PolicyScorer(epoch.policy), include_unbound=True) is None
    rows = epoch_allocation_compute(epoch)
    assert [r.contributions for r in rows] == [1]
    assert rows[0].points > Decimal(0)
    assert rows[0].amount == Decimal("1000.00")
