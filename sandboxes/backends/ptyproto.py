"""The async client of a bubblewrap sandbox's terminal socket (frames in ``ptyframe``)."""

from __future__ import annotations

import asyncio
import contextlib

from sandboxes.backends.base import TerminalStream
from sandboxes.backends.ptyframe import HEADER, MAX_FRAME, frame

__all__ = ["HEADER", "MAX_FRAME", "SocketTerminal", "frame"]


class SocketTerminal(TerminalStream):
    """Async client of a supervisor's terminal socket."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.exit_info: bytes | None = None

    @classmethod
    async def connect(cls, path: str) -> SocketTerminal:
        reader, writer = await asyncio.open_unix_connection(path, limit=MAX_FRAME * 2)
        return cls(reader, writer)

    async def recv(self) -> bytes | None:
        while True:
            try:
                header = await self.reader.readexactly(HEADER.size)
                kind, length = HEADER.unpack(header)
                payload = await self.reader.readexactly(length) if length else b""
            except (asyncio.IncompleteReadError, ConnectionError):
                return None
            if kind == b"o":
                return payload
            if kind == b"x":
                self.exit_info = payload
                return None

    async def _send(self, kind: bytes, payload: bytes) -> None:
        try:
            self.writer.write(frame(kind, payload))
            await self.writer.drain()
        except (ConnectionError, RuntimeError):
            pass

    async def send(self, data: bytes) -> None:
        for start in range(0, len(data), 65536):
            await self._send(b"i", data[start : start + 65536])

    async def resize(self, rows: int, cols: int) -> None:
        await self._send(b"r", f"{int(rows)},{int(cols)}".encode())

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(ConnectionError, RuntimeError):
            await self.writer.wait_closed()
