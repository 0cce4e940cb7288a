"""Realtime delivery over ``/ws/``, run against both the in-memory and the Redis pub/sub layer.

The Redis variant needs ``REDIS_URL`` (``make test`` starts a throwaway Redis and sets it);
only when it is genuinely absent is that variant skipped.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.db import transaction

from portal.models import RealtimeEvent
from portal.realtime import group_name, publish, resync
from portal.realtime.publishing import event_store
from portal.realtime.testing import (
    HubClient,
    channel_layers_reset,
    channel_layers_setting,
    thread_connections_close,
    topic_registered,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(params=["memory", "redis"])
async def layer(request: pytest.FixtureRequest, settings: Any) -> AsyncIterator[str]:
    redis_url = os.environ.get("REDIS_URL")
    if request.param == "redis" and not redis_url:
        pytest.skip("REDIS_URL is not set: no Redis to test the pub/sub layer against")
    settings.CHANNEL_LAYERS = channel_layers_setting(request.param, redis_url)
    channel_layers_reset()
    yield request.param
    channel_layers_reset()
    await thread_connections_close()


@pytest.fixture
def board() -> Iterator[str]:
    """A private test topic: members may read board.1, nobody may read board.2."""
    with topic_registered("tboard", authorize=lambda user, key: key == "1"):
        yield "tboard.1"


@pytest.fixture
def run_topic() -> Iterator[str]:
    with topic_registered("trun", public=True, persist=True):
        yield "trun.7"


sync_publish = database_sync_to_async(publish)


async def receive_events(client: HubClient, count: int) -> list[dict[str, Any]]:
    return [await client.receive() for _ in range(count)]


async def test_subscriber_receives_events_in_envelope_with_increasing_seq(
    layer: str, board: str, member: Any
) -> None:
    async with HubClient(user=member) as client:
        ack = await client.subscribe(board)
        assert ack == {"type": "subscribed", "topic": board, "seq": 0, "data": {"truncated": False}}

        await sync_publish(board, "card.moved", {"card": 3, "to": "done"})
        await sync_publish(board, "card.moved", {"card": 4, "to": "doing"})

        first, second = await receive_events(client, 2)
        assert set(first) == {"topic", "seq", "type", "data", "ts"}
        assert first["topic"] == board
        assert first["type"] == "card.moved"
        assert first["data"] == {"card": 3, "to": "done"}
        assert (first["seq"], second["seq"]) == (1, 2)
        assert second["data"] == {"card": 4, "to": "doing"}
        assert await client.nothing_received()


async def test_event_published_in_rolled_back_transaction_is_never_sent(
    layer: str, board: str, member: Any
) -> None:
    def publish_then_roll_back() -> None:
        with contextlib.suppress(RuntimeError), transaction.atomic():
            publish(board, "card.created", {"card": 1})
            raise RuntimeError("the service failed after publishing")

    def publish_committed() -> None:
        with transaction.atomic():
            publish(board, "card.created", {"card": 2})

    async with HubClient(user=member) as client:
        await client.subscribe(board)
        await database_sync_to_async(publish_then_roll_back)()
        assert await client.nothing_received()

        await database_sync_to_async(publish_committed)()
        event = await client.receive()
        # The rolled-back event neither arrived nor used up a seq.
        assert (event["seq"], event["data"]) == (1, {"card": 2})
        assert await client.nothing_received()
    assert await database_sync_to_async(RealtimeEvent.objects.filter(topic=board).count)() == 1


@pytest.mark.parametrize("persisted", [False, True], ids=["buffered", "persisted"])
async def test_reconnect_with_after_seq_replays_exactly_the_missed_events_then_live(
    layer: str, board: str, run_topic: str, member: Any, persisted: bool
) -> None:
    topic = run_topic if persisted else board
    async with HubClient(user=member) as client:
        await client.subscribe(topic)
        for n in (1, 2):
            await sync_publish(topic, "step", {"n": n})
        seen = [event["seq"] for event in await receive_events(client, 2)]
    assert seen == [1, 2]

    # Away: three events are published while no socket is listening.
    for n in (3, 4, 5):
        await sync_publish(topic, "step", {"n": n})

    async with HubClient(user=member) as client:
        ack = await client.subscribe(topic, after_seq=seen[-1])
        assert ack["type"] == "subscribed"
        assert ack["seq"] == 5
        assert ack["data"]["truncated"] is False
        replayed = await receive_events(client, 3)
        assert [(e["seq"], e["data"]["n"]) for e in replayed] == [(3, 3), (4, 4), (5, 5)]
        assert await client.nothing_received(0.3)

        await sync_publish(topic, "step", {"n": 6})
        live = await client.receive()
        assert (live["seq"], live["data"]) == (6, {"n": 6})
        assert await client.nothing_received()


async def test_lost_live_message_is_filled_from_the_database_before_the_next_event(
    layer: str, board: str, member: Any
) -> None:
    async with HubClient(user=member) as client:
        await client.subscribe(board)
        await sync_publish(board, "card.moved", {"card": 1})
        assert (await client.receive())["seq"] == 1

        # Stored but never fanned out: exactly what a dropped layer message looks like.
        await database_sync_to_async(event_store)(topic=board, type="card.moved", data={"card": 2})
        assert await client.nothing_received(0.3)

        await sync_publish(board, "card.moved", {"card": 3})
        filled, live = await receive_events(client, 2)
        assert (filled["seq"], filled["data"]) == (2, {"card": 2})
        assert (live["seq"], live["data"]) == (3, {"card": 3})
        assert await client.nothing_received()


async def test_duplicate_layer_message_is_delivered_once(
    layer: str, board: str, member: Any
) -> None:
    async with HubClient(user=member) as client:
        await client.subscribe(board)
        envelope = await database_sync_to_async(event_store)(
            topic=board, type="card.moved", data={"card": 1}
        )
        channel_layer = get_channel_layer()
        message = {"type": "realtime.event", "event": envelope, "text": json.dumps(envelope)}
        await channel_layer.group_send(group_name(board), message)
        await channel_layer.group_send(group_name(board), message)

        assert (await client.receive())["seq"] == 1
        assert await client.nothing_received()


async def test_publish_called_from_async_code_is_delivered(
    layer: str, board: str, member: Any
) -> None:
    async with HubClient(user=member) as client:
        await client.subscribe(board)
        publish(board, "card.created", {"card": 9})
        event = await client.receive()
        assert (event["seq"], event["data"]) == (1, {"card": 9})


async def test_unsubscribed_socket_receives_no_more_events(
    layer: str, board: str, member: Any
) -> None:
    async with HubClient(user=member) as client:
        await client.subscribe(board)
        await client.send({"action": "unsubscribe", "topic": board})
        assert await client.receive() == {"type": "unsubscribed", "topic": board}

        await sync_publish(board, "card.created", {"card": 1})
        assert await client.nothing_received()


async def test_each_subscriber_gets_its_own_topics_only(
    layer: str, board: str, run_topic: str, member: Any, other_member: Any
) -> None:
    async with HubClient(user=member) as on_board, HubClient(user=other_member) as on_run:
        await on_board.subscribe(board)
        await on_run.subscribe(run_topic)

        await sync_publish(board, "card.created", {"card": 1})
        await sync_publish(run_topic, "step", {"n": 1})

        assert (await on_board.receive())["topic"] == board
        assert (await on_run.receive())["topic"] == run_topic
        assert await on_board.nothing_received(0.3)
        assert await on_run.nothing_received(0.3)


async def test_lost_last_event_is_delivered_by_the_resync_check(
    layer: str, board: str, member: Any
) -> None:
    async with HubClient(user=member) as client:
        await client.subscribe(board)
        # The last event of a burst is lost: no later event will reveal the gap.
        await database_sync_to_async(event_store)(topic=board, type="card.moved", data={"n": 1})
        await database_sync_to_async(event_store)(topic=board, type="card.moved", data={"n": 2})
        assert await client.nothing_received(0.3)

        await resync.check_now()
        first, second = await receive_events(client, 2)
        assert [(e["seq"], e["data"]) for e in (first, second)] == [(1, {"n": 1}), (2, {"n": 2})]
        await resync.check_now()
        assert await client.nothing_received(0.3)


async def test_resync_runs_periodically_while_sockets_follow_topics(
    layer: str, board: str, member: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(resync, "CHECK_INTERVAL_SECONDS", 0.2)
    async with HubClient(user=member) as client:
        await client.subscribe(board)
        await database_sync_to_async(event_store)(topic=board, type="card.moved", data={"n": 1})
        event = await client.receive(timeout=5)
        assert (event["seq"], event["data"]) == (1, {"n": 1})
