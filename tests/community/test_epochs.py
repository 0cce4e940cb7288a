from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from community.models import Allocation, Contribution, Epoch, EpochStatus
from community.services.contributions import contributor_for, contributor_update
from community.services.epochs import (
    epoch_allocation_compute,
    epoch_close,
    epoch_open,
    epoch_recompute,
    epochs_tick,
    give_set,
)
from community.services.ledger import contributor_balance
from community.services.scoring import allocate_largest_remainder, policy_create, policy_current
from portal.api.errors import DomainError
from tests.community.factories import approved_contribution, fund, usd
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def open_epoch(steward, pool="100.00", method="proportional", name="2026-11", days_ago=1):
    now = timezone.now()
    return epoch_open(
        actor=steward,
        name=name,
        starts_at=now - timedelta(days=days_ago),
        ends_at=now + timedelta(days=29),
        currency="USD",
        pool_amount=pool,
        method=method,
    )


def test_largest_remainder_sums_exactly():
    shares = allocate_largest_remainder(
        total_units=100, weights={1: Decimal(1), 2: Decimal(1), 3: Decimal(1)}
    )
    assert sum(shares.values()) == 100
    assert sorted(shares.values()) == [33, 33, 34]
    assert shares[1] == 34  # ties go to the lowest key, deterministically
    assert allocate_largest_remainder(total_units=7, weights={}) == {}


def test_default_policy_weights():
    policy = policy_current()
    assert policy.category_weights == {
        "technical": "0.40",
        "innovation": "0.20",
        "problem_solving": "0.20",
        "collaboration": "0.20",
    }


def test_close_allocates_pool_exactly_and_posts_ledger(steward, member, other_member):
    fund("1000")
    epoch = open_epoch(steward, pool="100.00")
    approved_contribution(member, "code")
    approved_contribution(member, "doc")
    approved_contribution(other_member, "bug")
    preview = epoch_allocation_compute(epoch)
    assert sum(r.amount for r in preview) == Decimal("100.00")
    epoch_close(epoch_id=epoch.pk, actor=steward)
    epoch.refresh_from_db()
    assert epoch.status == EpochStatus.CLOSED and epoch.transaction_id
    allocations = {a.contributor.user_id: a.amount for a in Allocation.objects.all()}
    assert sum(allocations.values()) == Decimal("100.00")
    assert [a.amount for a in Allocation.objects.all()] == [r.amount for r in preview]
    # code 10 * 0.4 = 4, doc 6 * 0.4 = 2.4 → 6.4; bug 5 * 0.2 = 1
    assert allocations[member.pk] == Decimal("86.49")
    assert allocations[other_member.pk] == Decimal("13.51")
    assert contributor_balance(contributor=contributor_for(member), currency=usd()) == Decimal(
        "86.49"
    )
    assert Contribution.objects.filter(epoch=epoch).count() == 3


def test_close_runs_once_and_is_immutable(steward, member):
    fund("100")
    epoch = open_epoch(steward, pool="10")
    approved_contribution(member)
    epoch_close(epoch_id=epoch.pk, actor=steward)
    with pytest.raises(DomainError) as again:
        epoch_close(epoch_id=epoch.pk, actor=steward)
    assert again.value.code == "already_closed"
    approved_contribution(member)  # later work does not change the frozen allocation
    assert Allocation.objects.get(epoch=epoch).amount == Decimal("10.00")


def test_unfunded_pool_refuses_close_and_writes_nothing(steward, member):
    epoch = open_epoch(steward, pool="50")
    approved_contribution(member)
    with pytest.raises(DomainError) as exc:
        epoch_close(epoch_id=epoch.pk, actor=steward)
    assert exc.value.code == "pool_underfunded"
    epoch.refresh_from_db()
    assert epoch.status == EpochStatus.OPEN
    assert not Allocation.objects.exists()
    assert not Contribution.objects.filter(epoch__isnull=False).exists()


def test_money_opt_out_keeps_points_but_gets_no_money(steward, member, other_member):
    fund("100")
    contributor_update(contributor=contributor_for(member), actor=member, opt_out_money=True)
    epoch = open_epoch(steward, pool="10")
    approved_contribution(member)
    approved_contribution(other_member)
    epoch_close(epoch_id=epoch.pk, actor=steward)
    rows = {a.contributor.user_id: a for a in Allocation.objects.select_related("contributor")}
    assert rows[member.pk].amount == 0 and rows[member.pk].points > 0
    assert rows[other_member.pk].amount == Decimal("10.00")


def test_new_policy_applies_from_next_epoch_and_past_recomputes_identically(steward, member):
    fund("100")
    epoch = open_epoch(steward, pool="10")
    approved_contribution(member)
    old_points = epoch_allocation_compute(epoch)[0].points
    policy_create(actor=steward, base_points={"code": "100"})
    assert epoch_allocation_compute(epoch)[0].points == old_points  # pinned to v1
    epoch_close(epoch_id=epoch.pk, actor=steward)
    frozen = [(a.contributor_id, a.points, a.amount) for a in epoch.allocations.all()]
    assert [(r.contributor_id, r.points, r.amount) for r in epoch_recompute(epoch)] == frozen
    later = epoch_open(
        actor=steward,
        name="next",
        starts_at=epoch.ends_at,
        ends_at=epoch.ends_at + timedelta(days=30),
        currency="USD",
        pool_amount="0",
    )
    assert later.policy.version == 2
    assert epoch.policy.version == 1


def test_policy_weights_must_sum_to_one(steward, member):
    with pytest.raises(DomainError):
        policy_create(
            actor=steward,
            category_weights={
                "technical": "0.5",
                "innovation": "0.5",
                "problem_solving": "0.5",
                "collaboration": "0",
            },
        )
    with pytest.raises(DomainError) as forbidden:
        policy_create(actor=member)
    assert forbidden.value.status_code == 403


def test_overlapping_epochs_refused(steward):
    open_epoch(steward)
    with pytest.raises(DomainError) as exc:
        open_epoch(steward, name="other")
    assert exc.value.code == "epoch_overlap"


def test_peer_allocation_split_by_give(steward, member, other_member):
    fund("100")
    third = UserFactory(role="member")
    epoch = open_epoch(steward, pool="9", method="peer")
    a, b, c = (contributor_for(u) for u in (member, other_member, third))
    give_set(epoch_id=epoch.pk, user=member, receiver_id=b.pk, amount=60)
    give_set(epoch_id=epoch.pk, user=member, receiver_id=c.pk, amount=30)  # 10 GIVE lapse
    give_set(epoch_id=epoch.pk, user=other_member, receiver_id=c.pk, amount=100)
    with pytest.raises(DomainError) as self_give:
        give_set(epoch_id=epoch.pk, user=member, receiver_id=a.pk, amount=1)
    assert self_give.value.code == "self_allocation"
    with pytest.raises(DomainError) as too_much:
        give_set(epoch_id=epoch.pk, user=member, receiver_id=c.pk, amount=41)
    assert too_much.value.code == "give_exceeded"
    epoch_close(epoch_id=epoch.pk, actor=steward)
    amounts = {x.contributor_id: x.amount for x in Allocation.objects.filter(epoch=epoch)}
    # 60 vs 130 GIVE of 190 → 2.84 and 6.16 (largest remainder) = 9.00
    assert amounts[b.pk] + amounts[c.pk] == Decimal("9.00")
    assert amounts[c.pk] > amounts[b.pk]
    assert a.pk not in amounts or amounts[a.pk] == 0


def test_members_cannot_close_or_open(member):
    epoch = open_epoch(UserFactory(role="steward"))
    with pytest.raises(DomainError) as exc:
        epoch_close(epoch_id=epoch.pk, actor=member)
    assert exc.value.status_code == 403
    with pytest.raises(DomainError) as opening:
        open_epoch(member, name="mine", days_ago=-40)
    assert opening.value.status_code == 403


def test_periodic_tick_closes_due_epochs_and_opens_next(steward, member):
    fund("100")
    now = timezone.now()
    epoch = epoch_open(
        actor=steward,
        name="past",
        starts_at=now - timedelta(days=31),
        ends_at=now - timedelta(days=1),
        currency="USD",
        pool_amount="5",
    )
    approved_contribution(member)
    Contribution.objects.update(approved_at=now - timedelta(days=2))
    assert epochs_tick() == [epoch.pk]
    assert Epoch.objects.get(pk=epoch.pk).status == EpochStatus.CLOSED
    assert Epoch.objects.filter(status=EpochStatus.OPEN).count() == 1
    assert epochs_tick() == []
