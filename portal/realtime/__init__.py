"""The realtime hub: topic registry, ``publish()`` and the ``/ws/`` consumer.

Apps declare topics in their ``topics.py`` (imported from ``AppConfig.ready()``)::

    register_topic("poll", authorize=poll_can_view, public=poll_is_public)

and publish from services (sent after the transaction commits)::

    publish(f"poll.{poll.pk}", "poll.participation", {"ballots": 12})

Browsers use ``/static/js/realtime.js`` (``AgoraRealtime.subscribe(topic, fn)``).
"""

from __future__ import annotations

from portal.realtime.events import Envelope
from portal.realtime.publishing import apublish, publish
from portal.realtime.registry import (
    TopicError,
    TopicSpec,
    group_name,
    register_topic,
    topic_resolve,
    unregister_topic,
)
from portal.realtime.selectors import topic_seq_current

__all__ = [
    "Envelope",
    "TopicError",
    "TopicSpec",
    "apublish",
    "group_name",
    "publish",
    "register_topic",
    "topic_resolve",
    "topic_seq_current",
    "unregister_topic",
]
