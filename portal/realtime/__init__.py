"""The realtime hub: topic registry, ``publish()`` and the websocket consumer.

(Skeleton — the full implementation replaces these placeholders.)
"""

from __future__ import annotations

from typing import Any


def publish(topic: str, type: str, data: dict[str, Any]) -> None:  # noqa: A002
    """Send an event on ``topic`` after the surrounding transaction commits."""
    raise NotImplementedError
