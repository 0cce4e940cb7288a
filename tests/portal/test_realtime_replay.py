"""Replay from the database: pre-encoded envelopes, batch frames, and sameness with live."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.db import connection
from django.test.utils import CaptureQueriesContext

from portal.models import RealtimeEvent
from portal.realtime import publish
from portal.realtime import selectors as realtime_selectors
from portal.realtime.events import envelope_from_row
from portal.realtime.publishing import event_store
from portal.realtime.selectors import events_text_between
from portal.realtime.testing import (
    HubClient,
    topic_registered,
)

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fresh_channel_layer"),
]

sync_publish = database_sync_to_async(publish)
store = database_sync_to_async(event_store)
AWKWARD = {
    "text": 'quotes " and \\ backslashes, unicode é ✓ and a\nnewline',
    "nested": {"list": [1, 2.5, None, True, False], "empty": {}},
    "big": 2**53,
}


@pytest.fixture
def topics() -> Iterator[None]:
    with (
        topic_registered("tlog", public=True, persist=True),
        topic_registered("tbuf", public=True),
    ):
        yield


def test_encoded_events_are_the_stored_envelopes_in_order(topics: None) -> None:
    for n in range(5):
        event_store(topic="tlog", type="step", data={"n": n, **AWKWARD})
    event_store(topic="tlog", type='odd "type"', data={})

    page = events_text_between(topic="tlog", after=1, upto=6)

    expected = [
        envelope_from_row(row) for row in RealtimeEvent.objects.filter(topic="tlog", seq__gt=1)
    ]
    assert [json.loads(text) for text in page.texts] == expected
    assert (page.first_seq, page.last_seq) == (2, 6)
    assert events_text_between(topic="tlog", after=6, upto=6) == (0, 0, [])


def test_encoded_events_are_read_in_one_query_without_decoding(
    topics: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    for n in range(30):
        event_store(topic="tlog", type="step", data={"n": n})

    def no_models(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("replay must not build model instances")

    monkeypatch.setattr(RealtimeEvent, "from_db", classmethod(no_models))
    with CaptureQueriesContext(connection) as queries:
        page = events_text_between(topic="tlog", after=0, upto=30, limit=20)
    assert len(queries) == 1
    assert (page.first_seq, page.last_seq, len(page.texts)) == (1, 20, 20)


def test_buffered_topics_replay_only_the_kept_window(topics: None, settings: Any) -> None:
    settings.REALTIME_BUFFER_SIZE = 10
    for n in range(25):
        event_store(topic="tbuf", type="tick", data={"n": n})
    page = events_text_between(topic="tbuf", after=0, upto=25)
    assert (page.first_seq, page.last_seq) == (16, 25)


async def test_batch_subscriber_gets_replay_as_array_frames_then_live_envelopes(
    topics: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(realtime_selectors, "REPLAY_TEXT_CHUNK", 4)
    for n in range(10):
        await store(topic="tlog", type="step", data={"n": n})
    async with HubClient() as client:
        assert client.communicator is not None
        await client.send({"action": "subscribe", "topic": "tlog", "after_seq": 0, "batch": True})
        ack = await client.communicator.receive_json_from()
        assert (ack["type"], ack["seq"]) == ("subscribed", 10)
        frames = [await client.communicator.receive_json_from() for _ in range(3)]
        assert [[e["seq"] for e in frame] for frame in frames] == [
            [1, 2, 3, 4],
            [5, 6, 7, 8],
            [9, 10],
        ]
        assert [e["data"]["n"] for frame in frames for e in frame] == list(range(10))
        assert await client.nothing_received(0.3)

        await sync_publish("tlog", "step", {"n": 10})
        live = await client.communicator.receive_json_from()
        assert isinstance(live, dict) and live["seq"] == 11


async def test_replayed_events_equal_the_live_ones(topics: None) -> None:
    async with HubClient() as live_client:
        await live_client.subscribe("tlog")
        for n in range(3):
            await sync_publish("tlog", "step", {"n": n, **AWKWARD})
        live = [await live_client.receive() for _ in range(3)]

    async with HubClient() as late:
        await late.subscribe("tlog", after_seq=0, batch=True)
        replayed = [await late.receive() for _ in range(3)]
        assert late.frames == 2  # the ack, then one frame holding the three events
    async with HubClient() as legacy:
        await legacy.subscribe("tlog", after_seq=0)
        one_by_one = [await legacy.receive() for _ in range(3)]
        assert legacy.frames == 4

    assert replayed == live == one_by_one


async def test_gap_fill_for_a_batch_subscriber_comes_as_one_frame(topics: None) -> None:
    async with HubClient() as client:
        assert client.communicator is not None
        await client.subscribe("tlog", batch=True)
        # Stored without fan-out: what dropped channel-layer messages look like.
        for n in range(3):
            await store(topic="tlog", type="step", data={"n": n})
        await sync_publish("tlog", "step", {"n": 3})
        filled = await client.communicator.receive_json_from()
        live = await client.communicator.receive_json_from()
        assert [e["seq"] for e in filled] == [1, 2, 3]
        assert live["seq"] == 4
