"""Reads of stored events: the current seq of a topic and the events a client missed."""

from __future__ import annotations

import json
from datetime import datetime
from typing import NamedTuple

from django.conf import settings
from django.db.models import QuerySet, TextField
from django.db.models.functions import Cast

from portal.models import RealtimeEvent, TopicSequence
from portal.realtime.events import Envelope, envelope_from_row
from portal.realtime.registry import topic_resolve

REPLAY_CHUNK = 500
# Replay reads bigger pages: each is one database round trip and one websocket frame.
REPLAY_TEXT_CHUNK = 2000


class EncodedEvents(NamedTuple):
    """Stored events already encoded as envelope JSON, oldest first."""

    first_seq: int  # 0 when empty
    last_seq: int  # 0 when empty
    texts: list[str]


def topic_seq_current(*, topic: str) -> int:
    """The last seq handed out on ``topic`` (0 before the first event).

    Pages can render it so their client subscribes with ``afterSeq`` and misses nothing
    published between rendering and the socket opening.
    """
    seq = TopicSequence.objects.filter(topic=topic).values_list("seq", flat=True).first()
    return int(seq or 0)


def events_between(
    *, topic: str, after: int, upto: int, limit: int | None = None
) -> list[Envelope]:
    """Stored events with ``after < seq <= upto`` in order, at most ``limit`` of them.

    For buffered (non-persisted) topics only the newest ``REALTIME_BUFFER_SIZE`` seqs
    count, even if pruning has not caught up yet.
    """
    spec, _ = topic_resolve(topic)
    if not spec.persist:
        after = max(after, upto - settings.REALTIME_BUFFER_SIZE)
    if upto <= after:
        return []
    rows = RealtimeEvent.objects.filter(topic=topic, seq__gt=after, seq__lte=upto).order_by("seq")[
        : limit or REPLAY_CHUNK
    ]
    return [envelope_from_row(row) for row in rows]


def events_text_query(
    *, topic: str, after: int, upto: int, limit: int | None = None
) -> QuerySet[RealtimeEvent, tuple[int, str, str, datetime]]:
    """The replay read: ``(seq, type, data as JSON text, ts)`` rows, a keyset range."""
    return (
        RealtimeEvent.objects.filter(topic=topic, seq__gt=after, seq__lte=upto)
        .order_by("seq")
        .annotate(data_text=Cast("data", TextField()))
        .values_list("seq", "type", "data_text", "ts")[: limit or REPLAY_TEXT_CHUNK]
    )


def events_text_between(
    *, topic: str, after: int, upto: int, limit: int | None = None
) -> EncodedEvents:
    """Like ``events_between`` but each event as its envelope's JSON text, for replay.

    No model instances and no JSON decoding: the ``data`` column is read as the
    database's own JSON text (``jsonb::text`` on PostgreSQL, the stored text on SQLite)
    and spliced into the envelope, so a 10,000-event replay costs a few string joins per
    row. The range is a keyset scan of the ``(topic, seq)`` unique index.
    """
    spec, _ = topic_resolve(topic)
    if not spec.persist:
        after = max(after, upto - settings.REALTIME_BUFFER_SIZE)
    if upto <= after:
        return EncodedEvents(0, 0, [])
    rows = events_text_query(topic=topic, after=after, upto=upto, limit=limit)
    head = '{"topic": ' + json.dumps(topic) + ', "seq": '
    types: dict[str, str] = {}  # a run has a handful of event types: encode each once
    texts: list[str] = []
    first = seq = 0
    for seq, type_, data_text, ts in rows:
        encoded_type = types.get(type_)
        if encoded_type is None:
            encoded_type = types[type_] = json.dumps(type_)
        texts.append(
            f'{head}{seq}, "type": {encoded_type}, "data": {data_text}, "ts": "{ts.isoformat()}"}}'
        )
        if not first:
            first = seq
    return EncodedEvents(int(first), int(seq), texts)


def topic_seqs_current(*, topics: list[str]) -> dict[str, int]:
    """The last seq of each of ``topics`` that has had an event (one query)."""
    rows = TopicSequence.objects.filter(topic__in=topics).values_list("topic", "seq")
    return {topic: int(seq) for topic, seq in rows}
