"""Cancellation signals shared by the model client, the tools and the agent loop.

A run is cancelled from another process (the web process flips a flag in the database), so
the loop only ever asks ``is_cancelled()``; how the answer is found is the caller's business.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Protocol


class Cancelled(Exception):
    """The run was cancelled while this operation was under way."""


class CancelSignal(Protocol):
    def is_cancelled(self) -> bool: ...


class CancelFlag:
    """An in-process flag (a thread or a test sets it)."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    def is_cancelled(self) -> bool:
        return self._event.is_set()


class PollingCancel:
    """Asks ``check`` (e.g. a database read of the run's cancel flag) at most once per
    ``interval`` seconds, because tools poll the signal every few milliseconds."""

    def __init__(
        self,
        check: Callable[[], bool],
        *,
        interval: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._check = check
        self._interval = interval
        self._clock = clock
        self._last: float | None = None
        self._cancelled = False

    def is_cancelled(self) -> bool:
        if self._cancelled:
            return True
        now = self._clock()
        if self._last is None or now - self._last >= self._interval:
            self._last = now
            self._cancelled = bool(self._check())
        return self._cancelled


def cancel_requested(cancel: CancelSignal | None) -> bool:
    return cancel is not None and cancel.is_cancelled()


def cancellable_sleep(seconds: float, cancel: CancelSignal | None, *, step: float = 0.05) -> None:
    """``time.sleep`` that raises ``Cancelled`` soon after the signal is set."""
    deadline = time.monotonic() + seconds
    while True:
        if cancel_requested(cancel):
            raise Cancelled("cancelled")
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return
        time.sleep(min(step, remaining))
