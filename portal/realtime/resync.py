"""Catch-up for the last event of a burst when its channel-layer message was lost.

A consumer fills gaps when a later event arrives; if the lost message was the last one,
nothing arrives to reveal the gap. So each process periodically compares the stored seq
of the topics its sockets follow (one query for all of them) with what each socket was
sent, and tells lagging sockets to catch up from the database. The same check delivers
events published by a process the channel layer does not reach (e.g. a worker process
beside a web process on the in-memory layer), a few seconds late instead of never.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from typing import Any, Protocol

from channels.db import database_sync_to_async

from portal.realtime.selectors import topic_seqs_current

logger = logging.getLogger(__name__)

CHECK_INTERVAL_SECONDS = 5.0


class Follower(Protocol):
    channel_layer: Any
    channel_name: str
    subscriptions: dict[str, int]


class _Watch:
    """One per event loop (i.e. per server process): the sockets following each topic."""

    def __init__(self) -> None:
        self.followers: dict[str, weakref.WeakSet[Any]] = {}
        self.task: asyncio.Task[None] | None = None

    def add(self, topic: str, follower: Follower) -> None:
        self.followers.setdefault(topic, weakref.WeakSet()).add(follower)
        if self.task is None or self.task.done():
            self.task = asyncio.get_running_loop().create_task(self._run())

    def discard(self, topic: str, follower: Follower) -> None:
        followers = self.followers.get(topic)
        if followers is not None:
            followers.discard(follower)
            if not followers:
                del self.followers[topic]
        if not self.followers and self.task is not None:
            self.task.cancel()  # nothing to watch: do not outlive the last socket
            self.task = None

    async def _run(self) -> None:
        while self.followers:
            await asyncio.sleep(CHECK_INTERVAL_SECONDS)
            try:
                await self.check()
            except Exception:
                logger.exception("realtime: resync check failed")

    async def check(self) -> None:
        topics = list(self.followers)
        if not topics:
            return
        stored = await database_sync_to_async(topic_seqs_current)(topics=topics)
        for topic, seq in stored.items():
            for follower in list(self.followers.get(topic, ())):
                if follower.subscriptions.get(topic, seq) < seq:
                    # Through the socket's own channel, so the catch-up is handled in
                    # order with everything else that socket does.
                    await follower.channel_layer.send(
                        follower.channel_name,
                        {"type": "realtime.catchup", "topic": topic, "seq": seq},
                    )


_watches: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Watch] = weakref.WeakKeyDictionary()


def _watch() -> _Watch:
    loop = asyncio.get_running_loop()
    watch = _watches.get(loop)
    if watch is None:
        watch = _watches[loop] = _Watch()
    return watch


def follow(topic: str, follower: Follower) -> None:
    _watch().add(topic, follower)


def unfollow(topic: str, follower: Follower) -> None:
    with contextlib.suppress(RuntimeError):
        _watch().discard(topic, follower)


async def check_now() -> None:
    """Run this process's check immediately (tests; no need to wait for the interval)."""
    await _watch().check()
