"""Frames of the terminal socket protocol (standard library only: the sandbox supervisor
imports it, and it must start without Django or asyncio).

Each frame is one type byte, a big-endian uint32 length and the payload.
Client → supervisor: ``i`` input bytes, ``r`` resize ("rows,cols").
Supervisor → client: ``o`` output bytes (the scrollback first), ``x`` exit (JSON).
"""

from __future__ import annotations

import struct

HEADER = struct.Struct(">cI")
MAX_FRAME = 1 << 20


def frame(kind: bytes, payload: bytes) -> bytes:
    return HEADER.pack(kind, len(payload)) + payload
