"""The poll topic over a real websocket consumer: anonymous subscribers of a public poll see
participation live; a secret poll's running tally is never sent."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone

from governance.services import poll_create, poll_open, vote_cast
from portal.realtime.testing import (
    HubClient,
    channel_layers_reset,
    channel_layers_setting,
    thread_connections_close,
)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
async def memory_layer(settings: Any) -> Any:
    settings.CHANNEL_LAYERS = channel_layers_setting("memory")
    channel_layers_reset()
    yield
    channel_layers_reset()
    await thread_connections_close()


def _setup(visibility: str, is_public: bool = True) -> tuple[Any, Any]:
    maintainer = UserFactory(role="maintainer")
    voter = UserFactory(role="member")
    poll = poll_create(
        actor=maintainer,
        title="live",
        method="yes_no",
        visibility=visibility,
        is_public=is_public,
        closes_at=timezone.now() + timedelta(days=1),
    )
    return poll_open(poll=poll, actor=maintainer), voter


async def test_anonymous_subscriber_sees_participation_of_public_poll(memory_layer) -> None:
    poll, voter = await database_sync_to_async(_setup)("secret")
    async with HubClient() as client:
        ack = await client.subscribe(f"poll.{poll.pk}")
        assert ack["type"] == "subscribed", ack
        await database_sync_to_async(vote_cast)(voter=voter, poll=poll, choice="yes")
        event = await client.receive(timeout=5)
        assert event["type"] == "poll.participation"
        assert event["data"] == {"ballots": 1, "eligible": poll.eligible_count}
        assert await client.nothing_received(0.5)  # no running tally for a secret poll


async def test_non_public_poll_refuses_anonymous_subscribers(memory_layer) -> None:
    poll, _ = await database_sync_to_async(_setup)("named", False)
    async with HubClient() as client:
        reply = await client.subscribe(f"poll.{poll.pk}")
        assert reply["type"] != "subscribed"
