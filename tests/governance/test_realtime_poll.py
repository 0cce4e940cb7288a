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


@pytest.fixture
async def redis_layer(settings: Any) -> Any:
    import os

    url = os.environ.get("REDIS_URL")
    if not url:
        pytest.skip("needs Redis (make test starts one)")
    settings.CHANNEL_LAYERS = channel_layers_setting("redis", url)
    channel_layers_reset()
    yield
    channel_layers_reset()
    await thread_connections_close()


async def test_a_burst_of_ballots_is_coalesced_and_ends_on_the_final_count(
    redis_layer, settings
) -> None:
    from portal.models import User

    settings.GOVERNANCE_LIVE_INTERVAL_MS = 150

    def setup() -> tuple[Any, list[Any]]:
        maintainer = UserFactory(role="maintainer")
        voters = User.objects.bulk_create(
            [User(username=f"burst{i}", email=f"burst{i}@example.org") for i in range(30)]
        )
        poll = poll_create(
            actor=maintainer,
            title="burst",
            method="yes_no",
            visibility="secret",  # participation events only: no running tally
            closes_at=timezone.now() + timedelta(days=1),
            eligible_users=voters,
        )
        return poll_open(poll=poll, actor=maintainer), voters

    def cast_all(poll: Any, voters: list[Any]) -> None:
        for voter in voters:
            vote_cast(voter=voter, poll=poll.pk, choice="yes")

    poll, voters = await database_sync_to_async(setup)()
    async with HubClient(user=voters[0]) as client:
        ack = await client.subscribe(f"poll.{poll.pk}")
        assert ack["type"] == "subscribed", ack
        await database_sync_to_async(cast_all)(poll, voters)
        counts = []
        while not counts or counts[-1] < len(voters):
            event = await client.receive(timeout=5)
            if event["type"] == "poll.participation":
                counts.append(event["data"]["ballots"])
        assert await client.nothing_received(0.4)  # the burst ended on the final count
    assert counts[-1] == len(voters)
    assert counts == sorted(counts)  # one process: counts never go back
    assert len(counts) < len(voters)


async def test_a_named_polls_running_tally_is_computed_off_the_request(
    redis_layer, settings, monkeypatch
) -> None:
    import threading

    from django.core.cache import cache

    from governance.services import voting

    settings.GOVERNANCE_LIVE_INTERVAL_MS = 100
    computed_on: list[str] = []
    original = voting.poll_tally

    def recording(*, poll: Any) -> Any:
        computed_on.append(threading.current_thread().name)
        return original(poll=poll)

    monkeypatch.setattr(voting, "poll_tally", recording)
    poll, voter = await database_sync_to_async(_setup)("named")
    await database_sync_to_async(cache.delete)(f"governance:tally-sent:{poll.pk}")
    async with HubClient(user=voter) as client:
        ack = await client.subscribe(f"poll.{poll.pk}")
        assert ack["type"] == "subscribed", ack
        await database_sync_to_async(vote_cast)(voter=voter, poll=poll, choice="yes")
        tally = None
        while tally is None:
            event = await client.receive(timeout=5)
            if event["type"] == "poll.tally":
                tally = event["data"]["result"]
    assert tally["counts"]["yes"] == "1" and tally["ballots"] == 1
    assert computed_on == ["coalesce-poll-tally"]
