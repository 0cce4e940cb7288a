"""The realtime hub: topic registry, publish() rules, socket auth and the protocol's errors."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.db import connection
from django.test.utils import CaptureQueriesContext

from portal import metrics
from portal.accounts.tokens import token_create, token_revoke
from portal.models import RealtimeEvent
from portal.realtime import (
    TopicError,
    group_name,
    publish,
    register_topic,
    topic_resolve,
    topic_seq_current,
)
from portal.realtime import selectors as realtime_selectors
from portal.realtime.consumer import CLOSE_AUTH_FAILED, HubConsumer
from portal.realtime.publishing import event_store
from portal.realtime.testing import (
    HubClient,
    topic_registered,
)

sync_publish = database_sync_to_async(publish)
store = database_sync_to_async(event_store)
pytestmark = pytest.mark.usefixtures("fresh_channel_layer")


@pytest.fixture
def topics() -> Iterator[None]:
    """tpriv.<key>: members whose display name is ``key`` only; tpub: public;
    tmixed.<key>: public when key starts with "open"."""

    def authorize(user: Any, key: str) -> bool:
        if key == "boom":
            raise RuntimeError("authorize crashed")
        return bool(user.username == key)

    with (
        topic_registered("tpriv", authorize=authorize),
        topic_registered("tpub", public=True),
        topic_registered("tmixed", public=lambda key: key.startswith("open")),
        topic_registered("tlog", public=True, persist=True),
    ):
        yield


# --- registry -------------------------------------------------------------------------


def test_topic_names_are_validated_and_resolved(topics: None) -> None:
    spec, key = topic_resolve("tpriv.alice")
    assert (spec.prefix, key) == ("tpriv", "alice")
    assert topic_resolve("tpub")[1] == ""
    assert topic_resolve("tpriv.a.b-c_d")[1] == "a.b-c_d"
    for bad in ["", "tpriv.", ".x", "tpriv.a b", "tpriv.ü", "tpriv/1", "x" * 100, 12, None]:
        with pytest.raises(TopicError) as excinfo:
            topic_resolve(bad)
        assert excinfo.value.code == "bad_request", bad
    with pytest.raises(TopicError) as excinfo:
        topic_resolve("nosuchprefix.1")
    assert excinfo.value.code == "unknown_topic"


def test_register_topic_refuses_bad_and_duplicate_prefixes(topics: None) -> None:
    with pytest.raises(ValueError, match="already registered"):
        register_topic("tpub", public=True)
    for bad in ["a.b", "", "sp ace", "x" * 99]:
        with pytest.raises(ValueError):
            register_topic(bad)


def test_portal_declares_hud_and_content_public() -> None:
    for topic in ("hud", "content"):
        spec, _ = topic_resolve(topic)
        assert spec.public is True
        assert spec.persist is False


def test_group_names_are_valid_channel_layer_names_for_every_valid_topic(topics: None) -> None:
    short = group_name("tpriv.42")
    assert short == "rt.tpriv.42"
    longest = "tpriv." + "k" * 93
    assert len(longest) == 99
    topic_resolve(longest)
    long_group = group_name(longest)
    assert len(long_group) < 100
    assert long_group != group_name("tpriv." + "k" * 92 + "j")
    import re

    assert re.fullmatch(r"[A-Za-z0-9._-]+", long_group)


# --- publish --------------------------------------------------------------------------


def test_publish_refuses_unknown_topics_reserved_types_and_non_json_data(topics: None) -> None:
    with pytest.raises(TopicError):
        publish("nosuch.1", "x", {})
    with pytest.raises(ValueError, match="reserved"):
        publish("tpub", "subscribed", {})
    with pytest.raises(ValueError):
        publish("tpub", "", {})
    with pytest.raises(TypeError):
        publish("tpub", "x", ["not", "a", "dict"])  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        publish("tpub", "x", {"obj": object()})


@pytest.mark.django_db(transaction=True)
def test_seq_increases_per_topic_independently(topics: None) -> None:
    for _ in range(3):
        publish("tpub", "tick", {})
    publish("tpriv.alice", "tick", {})
    assert topic_seq_current(topic="tpub") == 3
    assert topic_seq_current(topic="tpriv.alice") == 1
    assert list(RealtimeEvent.objects.filter(topic="tpub").values_list("seq", flat=True)) == [
        1,
        2,
        3,
    ]


@pytest.mark.django_db(transaction=True)
def test_published_data_is_json_normalised_and_snapshotted(topics: None) -> None:
    data: dict[str, Any] = {"at": dt.datetime(2026, 1, 2, 3, 4, tzinfo=dt.UTC), "items": [1]}
    publish("tpub", "thing", data)
    data["items"].append(2)
    row = RealtimeEvent.objects.get(topic="tpub")
    assert row.data == {"at": "2026-01-02T03:04:00Z", "items": [1]}


@pytest.mark.django_db(transaction=True)
def test_published_events_are_counted_by_topic_prefix(topics: None) -> None:
    counter = metrics.REALTIME_EVENTS.labels("tpub")
    before = counter._value.get()
    publish("tpub", "tick", {})
    publish("tpub", "tick", {})
    assert counter._value.get() == before + 2


@pytest.mark.django_db
def test_seq_is_allocated_by_one_upsert_statement(topics: None) -> None:
    event_store(topic="tpub", type="warm", data={})
    with CaptureQueriesContext(connection) as ctx:
        envelope = event_store(topic="tpub", type="x", data={})
    assert envelope["seq"] == 2
    touching = [q["sql"] for q in ctx.captured_queries if "topicsequence" in q["sql"].lower()]
    assert len(touching) == 1
    assert "ON CONFLICT" in touching[0]
    assert "RETURNING" in touching[0]


@pytest.mark.django_db
def test_buffered_topics_keep_only_the_last_buffer_size_events(topics: None, settings: Any) -> None:
    settings.REALTIME_BUFFER_SIZE = 10
    for n in range(25):
        event_store(topic="tpub", type="tick", data={"n": n})
        event_store(topic="tlog", type="tick", data={"n": n})
    kept = list(RealtimeEvent.objects.filter(topic="tpub").values_list("seq", flat=True))
    assert kept == list(range(16, 26))
    # Persisted topics keep everything.
    assert RealtimeEvent.objects.filter(topic="tlog").count() == 25


@pytest.mark.django_db
def test_large_buffers_are_pruned_in_batches_never_beyond_ten_percent(
    topics: None, settings: Any
) -> None:
    settings.REALTIME_BUFFER_SIZE = 50  # prunes every 5 publishes
    for n in range(73):
        event_store(topic="tpub", type="tick", data={"n": n})
    seqs = list(RealtimeEvent.objects.filter(topic="tpub").values_list("seq", flat=True))
    assert seqs == list(range(21, 74))  # pruned at seq 70 to the newest 50, then 3 more
    # Replay never hands out more than the buffer, even before the next prune.
    replay = realtime_selectors.events_between(topic="tpub", after=0, upto=73)
    assert [e["seq"] for e in replay] == list(range(24, 74))


# --- socket auth ----------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
async def test_cross_origin_socket_is_refused() -> None:
    client = HubClient(origin="http://evil.example")
    assert await client.connect() is False


@pytest.mark.django_db(transaction=True)
async def test_socket_without_origin_is_refused() -> None:
    client = HubClient(origin=None)
    assert await client.connect() is False


@pytest.mark.django_db(transaction=True)
async def test_same_origin_socket_is_accepted_and_counted() -> None:
    gauge = metrics.WEBSOCKET_CONNECTIONS
    before = gauge._value.get()
    client = HubClient(origin="http://testserver")
    assert await client.connect() is True
    assert gauge._value.get() == before + 1
    await client.send({"action": "ping"})
    assert await client.receive() == {"type": "pong"}
    await client.disconnect()
    assert gauge._value.get() == before


@pytest.mark.django_db(transaction=True)
async def test_anonymous_socket_may_subscribe_only_to_public_topics(topics: None) -> None:
    async with HubClient() as client:
        assert (await client.subscribe("tpub"))["type"] == "subscribed"
        assert (await client.subscribe("tmixed.open-day"))["type"] == "subscribed"
        for topic in ("tpriv.alice", "tmixed.closed"):
            reply = await client.subscribe(topic)
            assert reply["type"] == "error"
            assert reply["topic"] == topic
            assert reply["data"]["code"] == "forbidden"
            assert "log in" in reply["data"]["message"]

        await sync_publish("tpriv.alice", "secret", {})
        await sync_publish("tpub", "news", {})
        event = await client.receive()
        assert (event["topic"], event["type"]) == ("tpub", "news")
        assert await client.nothing_received()


@pytest.mark.django_db(transaction=True)
async def test_subscription_refused_when_authorize_says_no(
    topics: None, member: Any, other_member: Any
) -> None:
    own = f"tpriv.{member.username}"
    async with HubClient(user=member) as allowed, HubClient(user=other_member) as refused:
        assert (await allowed.subscribe(own))["type"] == "subscribed"
        reply = await refused.subscribe(own)
        assert reply == {
            "type": "error",
            "topic": own,
            "data": {"code": "forbidden", "message": "you may not subscribe to this topic"},
        }
        await sync_publish(own, "private", {"secret": 1})
        assert (await allowed.receive())["data"] == {"secret": 1}
        assert await refused.nothing_received()


@pytest.mark.django_db(transaction=True)
async def test_authorize_crashing_refuses_the_subscription(topics: None, member: Any) -> None:
    async with HubClient(user=member) as client:
        reply = await client.subscribe("tpriv.boom")
        assert reply["data"]["code"] == "forbidden"


@pytest.mark.django_db(transaction=True)
async def test_bearer_token_authenticates_the_socket(topics: None, member: Any) -> None:
    _, raw = await database_sync_to_async(token_create)(user=member, name="cli")
    async with HubClient(token=raw) as client:
        assert client.connected
        assert (await client.subscribe(f"tpriv.{member.username}"))["type"] == "subscribed"
        reply = await client.subscribe("tpriv.someone-else")
        assert reply["data"]["code"] == "forbidden"


@pytest.mark.django_db(transaction=True)
async def test_api_client_without_origin_is_accepted_only_with_a_valid_token(member: Any) -> None:
    _, raw = await database_sync_to_async(token_create)(user=member, name="cli")
    async with HubClient(token=raw, origin=None) as client:
        assert client.connected
    assert await HubClient(token="agora_forged", origin=None).connect() is False
    # A browser page on another site cannot borrow a token-less socket either.
    assert await HubClient(token=raw, origin="http://evil.example").connect() is False


@pytest.mark.django_db(transaction=True)
async def test_invalid_or_revoked_bearer_token_refuses_the_socket(member: Any) -> None:
    client = HubClient(token="agora_not-a-real-token")
    assert await client.connect() is False
    assert client.close_code == CLOSE_AUTH_FAILED

    token, raw = await database_sync_to_async(token_create)(user=member, name="old")
    await database_sync_to_async(token_revoke)(actor=member, token=token)
    assert await HubClient(token=raw).connect() is False


# --- protocol errors ------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("message", "code"),
    [
        ("not json at all", "bad_request"),
        ("[1, 2]", "bad_request"),
        ('{"action": "dance"}', "bad_request"),
        ('{"topic": "tpub"}', "bad_request"),
        ('{"action": "subscribe"}', "bad_request"),
        ('{"action": "subscribe", "topic": "bad topic!"}', "bad_request"),
        ('{"action": "subscribe", "topic": "tpub", "after_seq": "3"}', "bad_request"),
        ('{"action": "subscribe", "topic": "tpub", "after_seq": -1}', "bad_request"),
        ('{"action": "subscribe", "topic": "tpub", "after_seq": true}', "bad_request"),
        ('{"action": "subscribe", "topic": "nosuch.1"}', "unknown_topic"),
        ('{"action": "unsubscribe", "topic": "tpub"}', "bad_request"),
        ('{"action": "ping", "pad": "' + "x" * 5000 + '"}', "bad_request"),
    ],
)
async def test_malformed_messages_get_an_error_event_and_keep_the_socket(
    topics: None, message: str, code: str
) -> None:
    async with HubClient() as client:
        await client.send_text(message)
        reply = await client.receive()
        assert reply["type"] == "error"
        assert reply["data"]["code"] == code
        assert reply["data"]["message"]
        await client.send({"action": "ping"})
        assert await client.receive() == {"type": "pong"}


@pytest.mark.django_db(transaction=True)
async def test_binary_frames_get_an_error_event() -> None:
    async with HubClient() as client:
        assert client.communicator is not None
        await client.communicator.send_to(bytes_data=b"\x00\x01")
        reply = await client.receive()
        assert reply["data"]["code"] == "bad_request"


@pytest.mark.django_db(transaction=True)
async def test_subscriptions_per_socket_are_capped(
    topics: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(HubConsumer, "max_subscriptions", 2)
    async with HubClient() as client:
        assert (await client.subscribe("tmixed.open1"))["type"] == "subscribed"
        assert (await client.subscribe("tmixed.open2"))["type"] == "subscribed"
        reply = await client.subscribe("tmixed.open3")
        assert reply["data"]["code"] == "bad_request"
        assert "at most 2 topics" in reply["data"]["message"]
        # Subscribing again to a topic already held is not a new subscription.
        assert (await client.subscribe("tmixed.open1"))["type"] == "subscribed"


# --- replay edge cases ----------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
async def test_replay_of_a_long_persisted_stream_arrives_complete_and_in_order(
    topics: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(realtime_selectors, "REPLAY_TEXT_CHUNK", 3)
    for n in range(10):
        await store(topic="tlog", type="step", data={"n": n})
    async with HubClient() as client:
        ack = await client.subscribe("tlog", after_seq=1)
        assert (ack["seq"], ack["data"]["truncated"]) == (10, False)
        seqs = [(await client.receive())["seq"] for _ in range(9)]
        assert seqs == list(range(2, 11))
        assert await client.nothing_received(0.3)


@pytest.mark.django_db(transaction=True)
async def test_replay_beyond_the_buffer_is_flagged_truncated(topics: None, settings: Any) -> None:
    settings.REALTIME_BUFFER_SIZE = 10
    for n in range(25):
        await store(topic="tpub", type="tick", data={"n": n})
    async with HubClient() as client:
        ack = await client.subscribe("tpub", after_seq=2)
        assert (ack["seq"], ack["data"]["truncated"]) == (25, True)
        seqs = [(await client.receive())["seq"] for _ in range(10)]
        assert seqs == list(range(16, 26))
        assert await client.nothing_received(0.3)


@pytest.mark.django_db(transaction=True)
async def test_after_seq_ahead_of_the_stream_acks_the_current_seq(topics: None) -> None:
    await store(topic="tpub", type="tick", data={})
    async with HubClient() as client:
        ack = await client.subscribe("tpub", after_seq=500)
        assert ack["seq"] == 1
        await sync_publish("tpub", "tick", {})
        assert (await client.receive())["seq"] == 2
