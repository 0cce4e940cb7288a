from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from community.scores import contribution_score
from community.services.epochs import epoch_close, epoch_open
from tests.community.factories import approved_contribution, fund

pytestmark = pytest.mark.django_db


def test_contribution_score_counts_closed_and_current_work(member, other_member, steward):
    assert contribution_score(member) == 0
    assert contribution_score(AnonymousUser()) == 0
    fund("10")
    now = timezone.now()
    epoch = epoch_open(
        actor=steward,
        name="s",
        starts_at=now - timedelta(days=1),
        ends_at=now + timedelta(days=1),
        currency="USD",
        pool_amount="10",
    )
    approved_contribution(member, "code")  # 10 * 0.40 = 4
    epoch_close(epoch_id=epoch.pk, actor=steward)
    approved_contribution(member, "bug")  # 5 * 0.20 = 1, not yet in a closed epoch
    assert contribution_score(member) == Decimal("5.0000")
    assert contribution_score(other_member) == 0
