from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from community.models import Epoch, EpochStatus
from community.services.contributions import contribution_claim, contribution_review
from community.services.epochs import epoch_close, epoch_open
from portal.models import RealtimeEvent
from portal.realtime import topic_resolve
from tests.community.factories import approved_contribution, fund

pytestmark = pytest.mark.django_db


def test_community_topic_is_public():
    spec, _ = topic_resolve("community")
    assert spec.public is True


def test_approval_publishes_after_commit_only(
    member, maintainer, django_capture_on_commit_callbacks
):
    contribution = contribution_claim(user=member, type_slug="code", title="Patch")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        contribution_review(
            contribution_id=contribution.pk, reviewer=maintainer, decision="approve"
        )
    assert len(callbacks) == 1
    event = RealtimeEvent.objects.get(topic="community")
    assert event.type == "contribution.approved"
    assert event.data["title"] == "Patch"


def test_pending_claims_publish_nothing(member, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        contribution_claim(user=member, type_slug="code", title="Patch")
    assert callbacks == []


def test_epoch_close_publishes(steward, member, django_capture_on_commit_callbacks):
    fund("10")
    now = timezone.now()
    epoch = epoch_open(
        actor=steward,
        name="rt",
        starts_at=now - timedelta(days=1),
        ends_at=now + timedelta(days=1),
        currency="USD",
        pool_amount="10",
    )
    approved_contribution(member)
    with django_capture_on_commit_callbacks(execute=True):
        epoch_close(epoch_id=epoch.pk, actor=steward)
    event = RealtimeEvent.objects.filter(topic="community", type="epoch.closed").get()
    assert event.data == {
        "id": epoch.pk,
        "name": "rt",
        "pool": "10.00000000",
        "currency": "USD",
        "recipients": 1,
    }


def test_periodic_job_closes_due_epochs(steward, member):
    import community.tasks
    from portal.jobs.registry import periodics_registered

    assert "community.epochs_tick" in periodics_registered()
    fund("10")
    now = timezone.now()
    epoch = epoch_open(
        actor=steward,
        name="due",
        starts_at=now - timedelta(days=30),
        ends_at=now - timedelta(minutes=1),
        currency="USD",
        pool_amount="3",
    )
    approved_contribution(member)
    from community.models import Contribution

    Contribution.objects.update(approved_at=now - timedelta(days=1))
    community.tasks.community_epochs_tick()
    assert Epoch.objects.get(pk=epoch.pk).status == EpochStatus.CLOSED
