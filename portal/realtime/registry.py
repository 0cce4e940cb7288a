"""The topic registry: each app declares the topics it publishes and who may subscribe.

A topic is ``"<prefix>"`` (``hud``) or ``"<prefix>.<key>"`` (``poll.12``). The prefix names
the owning app's declaration; the key (which may itself contain dots) identifies the
resource and is what ``authorize(user, key)`` and a callable ``public(key)`` receive.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

# Topics are stored in ``RealtimeEvent.topic`` (100 chars) and become channel-layer group
# names, which must stay under 100 characters of ``[A-Za-z0-9._-]``.
TOPIC_MAX_LENGTH = 99
TOPIC_RE = re.compile(r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9._-]+)?$")
PREFIX_RE = re.compile(r"^[A-Za-z0-9_-]+$")
GROUP_PREFIX = "rt."
_GROUP_MAX_LENGTH = 99

ErrorCode = Literal["forbidden", "unknown_topic", "bad_request"]
Authorize = Callable[[Any, str], bool]
Public = bool | Callable[[str], bool]


class TopicError(ValueError):
    """A topic name that is malformed (``code="bad_request"``) or not registered
    (``code="unknown_topic"``)."""

    def __init__(self, message: str, *, code: ErrorCode) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class TopicSpec:
    """How one topic prefix behaves: who may subscribe and whether events are kept."""

    prefix: str
    authorize: Authorize | None = None
    public: Public = False
    persist: bool = False


_registry: dict[str, TopicSpec] = {}


def register_topic(
    prefix: str,
    *,
    authorize: Authorize | None = None,
    public: Public = False,
    persist: bool = False,
) -> TopicSpec:
    """Declare a topic prefix. Call at import time from the app's ``topics.py``.

    ``authorize(user, key)`` runs in a worker thread for authenticated users subscribing
    to a non-public topic and returns True to allow. ``public`` (a bool, or a callable
    taking the key) lets anonymous sockets subscribe. ``persist=True`` keeps every event
    for replay; otherwise only the last ``REALTIME_BUFFER_SIZE`` events are kept.
    """
    if not isinstance(prefix, str) or not PREFIX_RE.match(prefix):
        raise ValueError(f"topic prefix {prefix!r} must be [A-Za-z0-9_-]+ (no dots)")
    if len(prefix) >= TOPIC_MAX_LENGTH:
        raise ValueError(f"topic prefix {prefix!r} is too long")
    if prefix in _registry:
        raise ValueError(f"topic prefix {prefix!r} is already registered")
    spec = TopicSpec(prefix=prefix, authorize=authorize, public=public, persist=persist)
    _registry[prefix] = spec
    return spec


def unregister_topic(prefix: str) -> None:
    """Remove a declaration (tests register throwaway topics and clean up after)."""
    _registry.pop(prefix, None)


def topic_split(topic: object) -> tuple[str, str]:
    """``"poll.12"`` → ``("poll", "12")``; ``"hud"`` → ``("hud", "")``.

    Raises ``TopicError(code="bad_request")`` for anything that is not a valid name.
    """
    if not isinstance(topic, str) or not topic:
        raise TopicError("topic must be a non-empty string", code="bad_request")
    if len(topic) > TOPIC_MAX_LENGTH:
        raise TopicError(
            f"topic names are at most {TOPIC_MAX_LENGTH} characters", code="bad_request"
        )
    if not TOPIC_RE.match(topic):
        raise TopicError(
            "topic names use only letters, digits, '.', '_' and '-' (e.g. 'poll.12')",
            code="bad_request",
        )
    prefix, _, key = topic.partition(".")
    return prefix, key


def topic_resolve(topic: object) -> tuple[TopicSpec, str]:
    """The registered spec and key of ``topic``; ``TopicError`` when invalid or unknown."""
    prefix, key = topic_split(topic)
    spec = _registry.get(prefix)
    if spec is None:
        raise TopicError(f"no such topic: {topic!r}", code="unknown_topic")
    return spec, key


def topic_is_public(spec: TopicSpec, key: str) -> bool:
    """Whether anonymous sockets may subscribe (a callable ``public`` may hit the DB)."""
    if callable(spec.public):
        return bool(spec.public(key))
    return bool(spec.public)


def group_name(topic: str) -> str:
    """The channel-layer group carrying ``topic`` — the only place group names are built.

    Valid topics contain only group-safe characters; the ``rt.`` prefix keeps realtime
    groups apart from any other group. Names that would reach the 100-character limit
    are replaced by a digest (still unique per topic).
    """
    name = GROUP_PREFIX + topic
    if len(name) > _GROUP_MAX_LENGTH:
        name = GROUP_PREFIX + "h." + hashlib.sha256(topic.encode()).hexdigest()
    return name
