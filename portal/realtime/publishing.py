"""``publish()``: store an event with the topic's next ``seq`` after commit, then fan it out.

The database row is the source of truth and the channel layer only a fast path: layers
drop messages under load, and the consumer fills any gap in ``seq`` from these rows.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import threading
from functools import partial
from typing import Any

from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone

from portal import metrics
from portal.db import hot_cursor
from portal.models import RealtimeEvent, TopicSequence
from portal.realtime.events import RESERVED_TYPES, Envelope, LayerMessage
from portal.realtime.registry import TopicSpec, group_name, topic_resolve

logger = logging.getLogger(__name__)

TYPE_MAX_LENGTH = 100
SEND_TIMEOUT = 5.0  # seconds a sync publisher waits for the channel layer
# Tasks started by publish() from async code; referenced so they are not collected early.
_background: set[asyncio.Task[Envelope]] = set()


def _prune_every(buffer_size: int) -> int:
    # Pruning on every publish would double the writes; every ~10% of the buffer keeps
    # at most buffer_size * 1.1 rows while replay still reads only the newest ones.
    return max(1, min(100, buffer_size // 10))


def _seq_next(topic: str) -> int:
    """Allocate the topic's next seq in one statement (PostgreSQL and SQLite ≥ 3.35).

    The upsert holds the sequence row's lock until the caller's transaction commits, so
    a later seq is never visible before an earlier one on the same topic.
    """
    table = connection.ops.quote_name(TopicSequence._meta.db_table)
    sql = (
        f'INSERT INTO {table} ("topic", "seq") VALUES (%s, 1) '  # noqa: S608 (table is ours)
        f'ON CONFLICT ("topic") DO UPDATE SET "seq" = {table}."seq" + 1 RETURNING "seq"'
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [topic])
        row = cursor.fetchone()
    return int(row[0])


_STORE_SQL_POSTGRESQL = """
WITH next AS (
    INSERT INTO {seq} ("topic", "seq") VALUES (%(topic)s, 1)
    ON CONFLICT ("topic") DO UPDATE SET "seq" = {seq}."seq" + 1
    RETURNING "seq"
)
INSERT INTO {event} ("topic", "seq", "type", "data", "ts")
SELECT %(topic)s, next."seq", %(type)s, %(data)s::jsonb, %(ts)s FROM next
RETURNING "seq"
"""


def _event_insert(topic: str, type: str, data: dict[str, Any]) -> tuple[int, Any]:
    """Allocate the seq and write the event; returns (seq, ts).

    On PostgreSQL this is one statement, so outside a transaction the sequence row is
    locked only while it runs (and a later seq still never commits before an earlier
    one); elsewhere it is two statements in a transaction.
    """
    ts = timezone.now()
    if connection.vendor == "postgresql":
        qn = connection.ops.quote_name
        sql = _STORE_SQL_POSTGRESQL.format(
            seq=qn(TopicSequence._meta.db_table), event=qn(RealtimeEvent._meta.db_table)
        )
        params = {
            "topic": topic,
            "type": type,
            "data": json.dumps(data),
            "ts": connection.ops.adapt_datetimefield_value(ts),
        }
        with hot_cursor() as cursor:
            cursor.execute(sql, params)
            return int(cursor.fetchone()[0]), ts
    with transaction.atomic():
        seq = _seq_next(topic)
        RealtimeEvent.objects.create(topic=topic, seq=seq, type=type, data=data, ts=ts)
    return seq, ts


def event_store(*, topic: str, type: str, data: dict[str, Any]) -> Envelope:
    """Write the event with its seq (no fan-out) and prune the buffer of buffered topics.

    ``publish()`` calls this after commit; tests call it directly to simulate an event
    whose live message the channel layer lost.
    """
    spec, _ = topic_resolve(topic)
    seq, ts = _event_insert(topic, type, data)
    if not spec.persist:
        size: int = settings.REALTIME_BUFFER_SIZE
        if seq > size and seq % _prune_every(size) == 0:
            RealtimeEvent.objects.filter(topic=topic, seq__lte=seq - size).delete()
    metrics.REALTIME_EVENTS.labels(spec.prefix).inc()
    return {"topic": topic, "seq": seq, "type": type, "data": data, "ts": ts.isoformat()}


def _layer_message(envelope: Envelope) -> LayerMessage:
    return {"type": "realtime.event", "event": envelope, "text": json.dumps(envelope)}


class _SyncSender:
    """Runs sync publishers' ``group_send`` on one long-lived event loop thread.

    ``async_to_sync`` outside an event loop builds a fresh loop per call, and network
    layers hold one connection per loop: a new Redis connection for every event. Layers
    are loop-bound but not thread-bound, so one background loop keeps one connection for
    all sync publishers of the process. The in-memory layer only reaches sockets served
    by the loop it is used from, so it keeps ``async_to_sync`` (which goes back to that
    loop when called from a ``sync_to_async`` thread).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pid = 0

    def _running_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None or self._pid != os.getpid():  # also after a fork
                loop = asyncio.new_event_loop()
                threading.Thread(
                    target=loop.run_forever, name="realtime-publisher", daemon=True
                ).start()
                self._loop, self._pid = loop, os.getpid()
            return self._loop

    def group_send(self, layer: Any, group: str, message: LayerMessage) -> None:
        if isinstance(layer, InMemoryChannelLayer):
            async_to_sync(layer.group_send)(group, message)
            return
        coro = layer.group_send(group, message)
        asyncio.run_coroutine_threadsafe(coro, self._running_loop()).result(SEND_TIMEOUT)


_sender = _SyncSender()


def _deliver(topic: str, type: str, data: dict[str, Any]) -> None:
    envelope = event_store(topic=topic, type=type, data=data)
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        _sender.group_send(layer, group_name(topic), _layer_message(envelope))
    except Exception:
        # The event is stored: subscribers get it from the next event's gap fill or on
        # reconnect. A layer outage must not fail the caller's (committed) work.
        logger.exception("realtime: group_send failed for %s#%s", topic, envelope["seq"])


async def apublish(topic: str, type: str, data: dict[str, Any]) -> Envelope:
    """Async ``publish()``: stores and sends now (async code has no open transaction)."""
    _, clean = _validate(topic, type, data)
    envelope = await database_sync_to_async(event_store)(topic=topic, type=type, data=clean)
    layer = get_channel_layer()
    if layer is not None:
        try:
            await layer.group_send(group_name(topic), _layer_message(envelope))
        except Exception:
            logger.exception("realtime: group_send failed for %s#%s", topic, envelope["seq"])
    return envelope


def _validate(topic: str, type: str, data: dict[str, Any]) -> tuple[TopicSpec, dict[str, Any]]:
    spec, _ = topic_resolve(topic)
    if not isinstance(type, str) or not type or len(type) > TYPE_MAX_LENGTH:
        raise ValueError(f"event type must be a string of 1-{TYPE_MAX_LENGTH} characters")
    if type in RESERVED_TYPES:
        raise ValueError(f"event type {type!r} is reserved for the hub")
    if not isinstance(data, dict):
        raise TypeError("event data must be a dict")
    # Serialise now: errors surface at the call site, dates/UUIDs/Decimals become strings
    # and later mutation of ``data`` by the caller cannot change what is sent.
    clean = json.loads(json.dumps(data, cls=DjangoJSONEncoder))
    return spec, clean


def _background_done(task: asyncio.Task[Envelope]) -> None:
    _background.discard(task)
    if not task.cancelled() and task.exception() is not None:
        logger.error("realtime: publish failed", exc_info=task.exception())


def publish(topic: str, type: str, data: dict[str, Any]) -> None:
    """Publish an event on ``topic`` once the surrounding transaction commits.

    Usable from sync code (inside or outside ``transaction.atomic``: nothing is sent if
    it rolls back) and from async code (stored and sent in the background right away;
    ``await apublish(...)`` to wait for it). Raises ``TopicError`` for an unknown or
    malformed topic and ``ValueError``/``TypeError`` for a bad type or non-JSON data.
    """
    _, clean = _validate(topic, type, data)
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        loop = None
    if loop is not None:
        task = loop.create_task(apublish(topic, type, clean))
        _background.add(task)
        task.add_done_callback(_background_done)
        return
    transaction.on_commit(partial(_deliver, topic, type, clean), robust=True)
