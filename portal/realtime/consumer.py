"""``/ws/``: one socket per browser tab, many topics, lossless per-topic ordering by ``seq``.

Client → server::

    {"action": "subscribe", "topic": "poll.12", "after_seq": 41}   # after_seq optional
    {"action": "subscribe", "topic": "run.7", "after_seq": 0, "batch": true}
    {"action": "unsubscribe", "topic": "poll.12"}
    {"action": "ping"}

Server → client: events ``{"topic","seq","type","data","ts"}``; a
``{"type":"subscribed","topic","seq","data":{"truncated"}}`` ack per subscription;
``{"type":"error","topic","data":{"code","message"}}`` for anything refused or malformed.

A subscription with ``"batch": true`` receives events read from the database (replay,
gap fills) as frames holding a JSON array of envelopes, in seq order — one frame per
page of up to a few thousand events instead of one per event. Live events are single
envelopes either way, so clients that do not ask for batches see the same protocol.

The channel layer is only the fast path. For each topic the consumer remembers the last
seq it delivered, drops duplicates and, when a live event skips ahead, reads the missing
ones from the database first — so a dropped layer message delays an event, never loses it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from portal import metrics
from portal.realtime import resync
from portal.realtime.events import Envelope, ErrorCode, LayerMessage, error_event
from portal.realtime.registry import (
    TopicError,
    TopicSpec,
    group_name,
    topic_is_public,
    topic_resolve,
)
from portal.realtime.selectors import EncodedEvents, events_text_between, topic_seq_current

logger = logging.getLogger(__name__)

# Close code for a socket whose bearer token was rejected (4000-4999: application codes).
CLOSE_AUTH_FAILED = 4401
MAX_MESSAGE_CHARS = 4096


@database_sync_to_async
def _authorize(spec: TopicSpec, key: str, user: Any) -> tuple[bool, str]:
    """(allowed, reason). Runs in a thread: both checks may query the database."""
    try:
        if topic_is_public(spec, key):
            return True, ""
        if user is None or not user.is_authenticated:
            return False, "log in to subscribe to this topic"
        if spec.authorize is not None and not spec.authorize(user, key):
            return False, "you may not subscribe to this topic"
    except Exception:
        logger.exception("realtime: authorize failed for %s.%s", spec.prefix, key)
        return False, "could not check access to this topic"
    return True, ""


_seq_current = database_sync_to_async(topic_seq_current)
_events_text_between = database_sync_to_async(events_text_between)


class HubConsumer(AsyncJsonWebsocketConsumer):
    """The realtime hub's websocket endpoint (see the module docstring for the protocol)."""

    max_subscriptions = 100

    async def connect(self) -> None:
        self.subscriptions: dict[str, int] = {}  # topic → last seq delivered
        self.batched: set[str] = set()  # topics whose stored events go out as arrays
        self.counted = False
        if self.scope.get("auth_error"):
            await self.close(code=CLOSE_AUTH_FAILED)
            return
        await self.accept()
        self.counted = True
        metrics.WEBSOCKET_CONNECTIONS.inc()

    async def disconnect(self, code: int) -> None:
        for topic in list(getattr(self, "subscriptions", {})):
            await self._leave(topic)
        if getattr(self, "counted", False):
            self.counted = False
            metrics.WEBSOCKET_CONNECTIONS.dec()

    # --- client → server -------------------------------------------------------------

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if text_data is None:
            await self._error("bad_request", "send JSON text frames")
            return
        if len(text_data) > MAX_MESSAGE_CHARS:
            await self._error("bad_request", f"messages are at most {MAX_MESSAGE_CHARS} characters")
            return
        try:
            content = json.loads(text_data)
        except ValueError:
            await self._error("bad_request", "message is not valid JSON")
            return
        await self.receive_json(content)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if not isinstance(content, dict):
            await self._error("bad_request", 'messages are JSON objects with an "action"')
            return
        action = content.get("action")
        if action == "subscribe":
            await self._subscribe(
                content.get("topic"), content.get("after_seq"), content.get("batch") is True
            )
        elif action == "unsubscribe":
            await self._unsubscribe(content.get("topic"))
        elif action == "ping":
            await self.send_json({"type": "pong"})
        else:
            await self._error("bad_request", 'action must be "subscribe", "unsubscribe" or "ping"')

    async def _subscribe(self, topic: Any, after_seq: Any, batch: bool = False) -> None:
        try:
            spec, key = topic_resolve(topic)
        except TopicError as exc:
            await self._error(exc.code, exc.message, _as_topic(topic))
            return
        if after_seq is not None and (
            isinstance(after_seq, bool) or not isinstance(after_seq, int) or after_seq < 0
        ):
            await self._error("bad_request", "after_seq must be a non-negative integer", topic)
            return
        if topic in self.subscriptions:
            await self._ack(topic, self.subscriptions[topic], truncated=False)
            return
        if len(self.subscriptions) >= self.max_subscriptions:
            await self._error(
                "bad_request",
                f"at most {self.max_subscriptions} topics per connection; unsubscribe first",
                topic,
            )
            return
        allowed, reason = await _authorize(spec, key, self.scope.get("user"))
        if not allowed:
            await self._error("forbidden", reason, topic)
            return

        # Join the group before reading the current seq: an event published in between
        # is then either replayed below or arrives live (and is deduplicated by seq).
        await self.channel_layer.group_add(group_name(topic), self.channel_name)
        resync.follow(topic, self)
        if batch:
            self.batched.add(topic)
        current = await _seq_current(topic=topic)
        if after_seq is None or after_seq >= current:
            # No replay requested, or nothing missed (a seq above ours means the stream
            # was reset; the ack's seq tells the client where it now stands).
            self.subscriptions[topic] = current
            await self._ack(topic, current, truncated=False)
            return

        self.subscriptions[topic] = after_seq
        page = await _events_text_between(topic=topic, after=after_seq, upto=current)
        truncated = not page.texts or page.first_seq > after_seq + 1
        await self._ack(topic, current, truncated=truncated)
        await self._send_pages(topic, page, current)
        if topic in self.subscriptions:
            self.subscriptions[topic] = max(self.subscriptions[topic], current)

    async def _send_pages(self, topic: str, page: EncodedEvents, upto: int) -> None:
        """Send ``page`` and every later stored page up to ``upto``.

        The next page is read from the database while the current one is being sent.
        """
        ahead: asyncio.Future[EncodedEvents] | None = None
        try:
            while page.texts:
                if page.last_seq < upto:
                    ahead = asyncio.ensure_future(
                        _events_text_between(topic=topic, after=page.last_seq, upto=upto)
                    )
                await self._deliver_page(topic, page)
                if ahead is None:
                    break
                page, ahead = await ahead, None
        finally:
            if ahead is not None:
                ahead.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await ahead

    async def _fill(self, topic: str, upto: int) -> None:
        """Send the stored events after the last one this socket got, up to ``upto``."""
        last = self.subscriptions.get(topic)
        if last is None or last >= upto:
            return
        page = await _events_text_between(topic=topic, after=last, upto=upto)
        await self._send_pages(topic, page, upto)

    async def _unsubscribe(self, topic: Any) -> None:
        if not isinstance(topic, str) or topic not in self.subscriptions:
            await self._error("bad_request", "not subscribed to this topic", _as_topic(topic))
            return
        await self._leave(topic)
        await self.send_json({"type": "unsubscribed", "topic": topic})

    async def _leave(self, topic: str) -> None:
        self.subscriptions.pop(topic, None)
        self.batched.discard(topic)
        resync.unfollow(topic, self)
        try:
            await self.channel_layer.group_discard(group_name(topic), self.channel_name)
        except Exception:
            logger.exception("realtime: group_discard failed for %s", topic)

    # --- channel layer → client ------------------------------------------------------

    async def dispatch(self, message: dict[str, Any]) -> None:
        if message.get("type") == "realtime.event":
            # The hot path: one event reaches every subscribed socket of the process.
            # The default dispatch first hops to the database thread to close stale
            # connections — one serialized hop per socket per event, which dominates
            # fan-out. This handler only reaches the database through
            # database_sync_to_async, which does that housekeeping itself.
            await self.realtime_event(message)  # type: ignore[arg-type]
            return
        await super().dispatch(message)

    async def realtime_event(self, message: LayerMessage) -> None:
        event = message["event"]
        topic = event["topic"]
        last = self.subscriptions.get(topic)
        if last is None or event["seq"] <= last:
            return  # not (or no longer) subscribed, or already delivered
        if event["seq"] > last + 1:
            # A layer message was dropped (or is still on its way): fill from the DB.
            await self._fill(topic, event["seq"] - 1)
        await self._deliver(event, message.get("text"))

    async def realtime_catchup(self, message: dict[str, Any]) -> None:
        """The process's resync check saw stored events this socket was not sent."""
        topic, seq = message["topic"], message["seq"]
        await self._fill(topic, seq)
        if topic in self.subscriptions:
            # Whatever is still missing was pruned from the buffer: nothing left to send.
            self.subscriptions[topic] = max(self.subscriptions[topic], seq)

    async def _deliver(self, event: Envelope, text: str | None = None) -> None:
        await self.send(text_data=text or json.dumps(event))
        topic = event["topic"]
        if topic in self.subscriptions:
            self.subscriptions[topic] = max(self.subscriptions[topic], event["seq"])

    async def _deliver_page(self, topic: str, page: EncodedEvents) -> None:
        if topic in self.batched:
            await self.send(text_data="[" + ",".join(page.texts) + "]")
        else:
            for text in page.texts:
                await self.send(text_data=text)
        if topic in self.subscriptions:
            self.subscriptions[topic] = max(self.subscriptions[topic], page.last_seq)

    async def _ack(self, topic: str, seq: int, *, truncated: bool) -> None:
        await self.send_json(
            {"type": "subscribed", "topic": topic, "seq": seq, "data": {"truncated": truncated}}
        )

    async def _error(self, code: ErrorCode, message: str, topic: str | None = None) -> None:
        await self.send_json(error_event(code, message, topic))


def _as_topic(value: Any) -> str | None:
    return value if isinstance(value, str) and len(value) <= 100 else None
