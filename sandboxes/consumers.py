"""The terminal socket, ``/ws/terminal/<sandbox_id>/``.

Output arrives as binary frames (the scrollback first, then live bytes). The client sends
JSON text frames: ``{"type": "input", "data": "ls\\r"}`` and
``{"type": "resize", "rows": 24, "cols": 80}``. Only the owner's input reaches the PTY;
invited maintainers watch read-only. State, progress and idle warnings travel on the
realtime hub's ``sandbox.<id>`` topic instead.

The backend's ``attach()`` reaches the terminal wherever the sandbox lives (the supervisor's
socket for bubblewrap, the engine's attach API for Docker), so any web process can serve
any sandbox and a reconnect resumes the same session with its scrollback.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

from sandboxes.backends import backend_get
from sandboxes.backends.base import BackendError, TerminalStream
from sandboxes.models import Sandbox, SandboxState
from sandboxes.selectors import sandbox_can_write, sandbox_get_for_user
from sandboxes.services import sandbox_touch
from sandboxes.services.lifecycle import sandbox_handle

TOUCH_EVERY = 20.0  # seconds between activity writes while someone types
MAX_INPUT = 64 * 1024


def _load(user: Any, sandbox_id: int) -> tuple[Sandbox, bool] | None:
    sandbox = sandbox_get_for_user(user, sandbox_id)
    if sandbox is None:
        return None
    return sandbox, sandbox_can_write(user, sandbox)


class TerminalConsumer(AsyncWebsocketConsumer):
    """Bridges one browser terminal to a sandbox's PTY."""

    stream: TerminalStream | None = None
    pump: asyncio.Task[None] | None = None
    can_write = False
    sandbox_id = 0
    last_touch = 0.0

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        self.sandbox_id = int(self.scope["url_route"]["kwargs"]["sandbox_id"])
        found = await database_sync_to_async(_load)(user, self.sandbox_id)
        if found is None:
            await self.close(code=4403)
            return
        sandbox, self.can_write = found
        await self.accept()
        await self.send(
            text_data=json.dumps(
                {"type": "hello", "mode": "rw" if self.can_write else "ro", "state": sandbox.state}
            )
        )
        if sandbox.state != SandboxState.RUNNING or not sandbox.handle_ref:
            if sandbox.terminal_log:
                await self.send(bytes_data=bytes(sandbox.terminal_log))
            await self.send(text_data=json.dumps({"type": "closed", "state": sandbox.state}))
            await self.close()
            return
        try:
            self.stream = await backend_get(sandbox.backend).attach(sandbox_handle(sandbox))
        except BackendError as exc:
            await self.send(text_data=json.dumps({"type": "error", "message": str(exc)}))
            await self.close()
            return
        self.pump = asyncio.create_task(self._pump())

    async def _pump(self) -> None:
        assert self.stream is not None
        try:
            while True:
                data = await self.stream.recv()
                if data is None:
                    break
                await self.send(bytes_data=data)
            await self.send(text_data=json.dumps({"type": "closed", "state": "exited"}))
            await self.close()
        except asyncio.CancelledError:
            raise
        except Exception:  # the socket went away mid-send
            return

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if not self.can_write or self.stream is None:
            return
        if bytes_data is not None:
            await self._input(bytes_data[:MAX_INPUT])
            return
        try:
            message = json.loads(text_data or "")
        except ValueError:
            return
        if not isinstance(message, dict):
            return
        if message.get("type") == "input" and isinstance(message.get("data"), str):
            await self._input(message["data"][:MAX_INPUT].encode())
        elif message.get("type") == "resize":
            with contextlib.suppress(TypeError, ValueError):
                rows = max(2, min(int(message["rows"]), 500))
                cols = max(2, min(int(message["cols"]), 1000))
                await self.stream.resize(rows, cols)

    async def _input(self, data: bytes) -> None:
        assert self.stream is not None
        await self.stream.send(data)
        now = time.monotonic()
        if now - self.last_touch > TOUCH_EVERY:
            self.last_touch = now
            await database_sync_to_async(sandbox_touch)(sandbox_id=self.sandbox_id)

    async def disconnect(self, code: int) -> None:
        if self.pump is not None:
            self.pump.cancel()
        if self.stream is not None:
            await self.stream.close()
