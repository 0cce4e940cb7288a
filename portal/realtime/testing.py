"""Test helpers for the realtime hub: throwaway topics, channel layers and a socket client.

Used by the hub's own tests and by apps testing their topics' authorization::

    with topic_registered("thing", authorize=lambda user, key: False):
        async with HubClient(user=member) as client:
            reply = await client.subscribe("thing.1")
            assert reply["data"]["code"] == "forbidden"
"""

from __future__ import annotations

import uuid
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.layers import channel_layers
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.db import connections

from portal.realtime.registry import TopicSpec, register_topic, unregister_topic

DEFAULT_ORIGIN = "http://testserver"


@contextmanager
def topic_registered(prefix: str, **options: Any) -> Iterator[TopicSpec]:
    """Register a topic prefix for the duration of the block."""
    spec = register_topic(prefix, **options)
    try:
        yield spec
    finally:
        unregister_topic(prefix)


def channel_layers_setting(kind: str, redis_url: str | None = None) -> dict[str, Any]:
    """A ``CHANNEL_LAYERS`` value: ``"memory"`` or ``"redis"`` (pub/sub, private prefix)."""
    if kind == "memory":
        return {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    if kind == "redis":
        if not redis_url:
            raise ValueError("the redis layer needs a Redis URL")
        return {
            "default": {
                "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
                "CONFIG": {"hosts": [redis_url], "prefix": f"agora-test-{uuid.uuid4().hex[:8]}"},
            }
        }
    raise ValueError(f"unknown channel layer kind {kind!r}")


def channel_layers_reset() -> None:
    """Forget the layer instances so the next use builds them from current settings."""
    channel_layers.backends = {}


async def thread_connections_close() -> None:
    """Close the database connections of the thread running ``database_sync_to_async``.

    That thread outlives each test; its open connection would keep PostgreSQL from
    dropping the test database at the end of the run.
    """
    await sync_to_async(connections.close_all, thread_sensitive=True)()


def _session_cookie(user: Any) -> str:
    from django.test import Client

    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


class HubClient:
    """A ``WebsocketCommunicator`` on ``/ws/`` speaking the hub protocol."""

    def __init__(
        self,
        *,
        user: Any = None,
        token: str | None = None,
        origin: str | None = DEFAULT_ORIGIN,
        timeout: float = 5,
    ) -> None:
        self.user = user
        self.token = token
        self.origin = origin
        self.timeout = timeout
        self.connected = False
        self.close_code: int | None = None
        self.communicator: WebsocketCommunicator | None = None
        # Envelopes of a received batch frame not yet returned by ``receive()``.
        self._pending: deque[dict[str, Any]] = deque()
        self.frames = 0  # websocket frames received

    async def connect(self) -> bool:
        from config.asgi import application

        headers: list[tuple[bytes, bytes]] = [(b"host", b"testserver")]
        if self.origin is not None:
            headers.append((b"origin", self.origin.encode()))
        if self.user is not None:
            cookie = await database_sync_to_async(_session_cookie)(self.user)
            headers.append((b"cookie", cookie.encode()))
        if self.token is not None:
            headers.append((b"authorization", f"Bearer {self.token}".encode()))
        self.communicator = WebsocketCommunicator(application, "/ws/", headers=headers)
        connected, code = await self.communicator.connect(timeout=self.timeout)
        self.connected = bool(connected)
        self.close_code = None if connected else code
        return self.connected

    async def send(self, message: Any) -> None:
        assert self.communicator is not None
        await self.communicator.send_json_to(message)

    async def send_text(self, text: str) -> None:
        assert self.communicator is not None
        await self.communicator.send_to(text_data=text)

    async def receive(self, timeout: float | None = None) -> dict[str, Any]:
        """The next message; the envelopes of a batch frame are returned one at a time."""
        assert self.communicator is not None
        while not self._pending:
            message: Any = await self.communicator.receive_json_from(
                timeout=timeout or self.timeout
            )
            self.frames += 1
            if isinstance(message, list):
                self._pending.extend(message)
            else:
                return dict(message)
        return self._pending.popleft()

    async def nothing_received(self, timeout: float = 0.5) -> bool:
        assert self.communicator is not None
        return bool(await self.communicator.receive_nothing(timeout=timeout))

    async def subscribe(
        self, topic: str, after_seq: int | None = None, *, batch: bool = False
    ) -> dict[str, Any]:
        """Send a subscribe and return the reply (the ``subscribed`` ack or an error)."""
        message: dict[str, Any] = {"action": "subscribe", "topic": topic}
        if after_seq is not None:
            message["after_seq"] = after_seq
        if batch:
            message["batch"] = True
        await self.send(message)
        return await self.receive()

    async def disconnect(self) -> None:
        if self.communicator is not None and self.connected:
            self.connected = False
            await self.communicator.disconnect()

    async def __aenter__(self) -> HubClient:
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.disconnect()
