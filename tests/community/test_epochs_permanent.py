"""Epochs are permanent: contributions point at them without a per-row constraint check."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction
from django.db.models import ProtectedError

from community.models import Contribution, Epoch
from community.services.epochs import epoch_close
from tests.community.factories import approved_contribution, fund
from tests.community.test_epochs import open_epoch

pytestmark = pytest.mark.django_db


def test_an_epoch_with_bound_contributions_cannot_be_deleted(steward, member):
    fund("1000")
    epoch = open_epoch(steward, pool="10.00")
    approved_contribution(member, "code")
    epoch_close(epoch_id=epoch.pk, actor=steward)
    assert Contribution.objects.filter(epoch=epoch).count() == 1
    with pytest.raises(ProtectedError):
        Epoch.objects.filter(pk=epoch.pk).delete()
    assert Epoch.objects.filter(pk=epoch.pk).exists()


def test_postgresql_refuses_deleting_any_epoch(steward):
    if connection.vendor != "postgresql":
        pytest.skip("the trigger is PostgreSQL's (SQLite keeps DELETE for test flushes)")
    epoch = open_epoch(steward, pool="10.00")
    with (
        pytest.raises(DatabaseError, match="epochs are permanent"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("DELETE FROM community_epoch WHERE id = %s", [epoch.pk])
    assert Epoch.objects.filter(pk=epoch.pk).exists()
