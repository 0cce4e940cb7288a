"""The terminal socket: input, output, Ctrl-C, resize, reconnect replay, who may attach."""

from __future__ import annotations

import asyncio
import json
import re
import time
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator

from config.routing import websocket_urlpatterns
from sandboxes.services import sandbox_exec, sandbox_invite
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


async def connect(sandbox: Any, user: Any) -> tuple[WebsocketCommunicator, bool]:
    communicator = WebsocketCommunicator(
        URLRouter(websocket_urlpatterns), f"/ws/terminal/{sandbox.pk}/"
    )
    communicator.scope["user"] = user
    connected, _ = await communicator.connect()
    return communicator, connected


async def read_until(
    communicator: WebsocketCommunicator, needle: bytes, timeout: float = 10
) -> bytes:
    seen = b""
    deadline = time.monotonic() + timeout
    while needle not in seen:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"{needle!r} not seen in {seen[-500:]!r}")
        message = await communicator.receive_output(remaining)
        if message["type"] == "websocket.close":
            raise AssertionError(f"closed before {needle!r}: {seen[-500:]!r}")
        seen += message.get("bytes") or b""
    return seen


async def send_input(communicator: WebsocketCommunicator, text: str) -> None:
    await communicator.send_to(text_data=json.dumps({"type": "input", "data": text}))


async def test_owner_types_and_sees_output_then_reconnect_replays(
    launched: Any, maintainer: Any
) -> None:
    term, connected = await connect(launched, maintainer)
    assert connected
    hello = json.loads((await term.receive_output(5))["text"])
    assert hello["mode"] == "rw"
    await send_input(term, "echo hi-$((40+2))\r")
    await read_until(term, b"hi-42")
    await term.disconnect()

    again, _ = await connect(launched, maintainer)
    await again.receive_output(5)  # hello
    assert b"hi-42" in await read_until(again, b"hi-42", timeout=5)
    await again.disconnect()


async def test_ctrl_c_interrupts_the_command_not_the_sandbox(
    launched: Any, maintainer: Any
) -> None:
    term, _ = await connect(launched, maintainer)
    await term.receive_output(5)  # hello
    await read_until(term, b"$ ")  # type only once the shell is reading (no typeahead echo)
    await send_input(term, "sleep 60; echo NOT-INTERRUPTED\r")
    await asyncio.sleep(0.3)
    await send_input(term, "\x03")
    await send_input(term, "echo still-$((1+1))\r")
    seen = await read_until(term, b"still-2", timeout=5)
    plain = re.sub(rb"\x1b\[[0-9;?]*[A-Za-z]", b"", seen).replace(b"\r", b"")
    printed = [line.strip() for line in plain.split(b"\n")]
    assert b"still-2" in printed  # the check below can see output lines
    assert b"NOT-INTERRUPTED" not in printed  # only the typed line, never its output
    assert b"^C" in seen
    await term.disconnect()


async def test_resize_reaches_the_pty(launched: Any, maintainer: Any) -> None:
    term, _ = await connect(launched, maintainer)
    await term.send_to(text_data=json.dumps({"type": "resize", "rows": 33, "cols": 111}))
    await asyncio.sleep(0.1)
    await send_input(term, "stty size\r")
    await read_until(term, b"33 111")
    await term.disconnect()


async def test_another_maintainer_cannot_attach(launched: Any) -> None:
    intruder = await database_sync_to_async(UserFactory)(role="maintainer")
    _, connected = await connect(launched, intruder)
    assert not connected


async def test_invited_maintainer_watches_read_only(launched: Any, maintainer: Any) -> None:
    viewer = await database_sync_to_async(UserFactory)(role="maintainer")
    await database_sync_to_async(sandbox_invite)(user=maintainer, sandbox=launched, viewer=viewer)
    watch, connected = await connect(launched, viewer)
    assert connected
    assert json.loads((await watch.receive_output(5))["text"])["mode"] == "ro"
    await send_input(watch, "touch viewer-was-here\r")
    owner, _ = await connect(launched, maintainer)
    await send_input(owner, "echo owner-$((2+3))\r")
    await read_until(watch, b"owner-5")  # the viewer sees the owner's session
    result = await database_sync_to_async(sandbox_exec)(
        user=maintainer, sandbox=launched, command="ls"
    )
    assert b"viewer-was-here" not in result.output
    await watch.disconnect()
    await owner.disconnect()
