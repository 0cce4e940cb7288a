"""Reads of stored events: the current seq of a topic and the events a client missed."""

from __future__ import annotations

from django.conf import settings

from portal.models import RealtimeEvent, TopicSequence
from portal.realtime.events import Envelope, envelope_from_row
from portal.realtime.registry import topic_resolve

REPLAY_CHUNK = 500


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


def topic_seqs_current(*, topics: list[str]) -> dict[str, int]:
    """The last seq of each of ``topics`` that has had an event (one query)."""
    rows = TopicSequence.objects.filter(topic__in=topics).values_list("topic", "seq")
    return {topic: int(seq) for topic, seq in rows}
