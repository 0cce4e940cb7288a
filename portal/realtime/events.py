"""The shapes that travel over ``/ws/`` (server → client) and over the channel layer."""

from __future__ import annotations

from typing import Any, Literal, TypedDict

from portal.models import RealtimeEvent
from portal.realtime.registry import ErrorCode

# Event types the hub itself sends; apps may not publish them.
RESERVED_TYPES = frozenset({"error", "subscribed", "unsubscribed", "pong"})


class Envelope(TypedDict):
    """One event on a topic, as every client receives it."""

    topic: str
    seq: int
    type: str
    data: dict[str, Any]
    ts: str


class ErrorData(TypedDict):
    code: ErrorCode
    message: str


class ErrorEvent(TypedDict):
    """A refused or malformed request; ``topic`` is None when none could be read."""

    type: Literal["error"]
    topic: str | None
    data: ErrorData


class SubscribedData(TypedDict):
    # True when the client asked to replay from a seq whose events are no longer kept
    # (bounded buffer): it should reload its state instead of relying on the replay.
    truncated: bool


class SubscribedEvent(TypedDict):
    """Acknowledges a subscription; ``seq`` is the topic's current sequence number."""

    type: Literal["subscribed"]
    topic: str
    seq: int
    data: SubscribedData


class LayerMessage(TypedDict):
    """What ``publish()`` sends to a topic's channel-layer group.

    ``text`` is the envelope already encoded as JSON: a topic may have thousands of
    subscribers in one process, and encoding once instead of per socket matters there.
    """

    type: Literal["realtime.event"]
    event: Envelope
    text: str


def envelope_from_row(row: RealtimeEvent) -> Envelope:
    return {
        "topic": row.topic,
        "seq": row.seq,
        "type": row.type,
        "data": row.data,
        "ts": row.ts.isoformat(),
    }


def error_event(code: ErrorCode, message: str, topic: str | None = None) -> ErrorEvent:
    return {"type": "error", "topic": topic, "data": {"code": code, "message": message}}
