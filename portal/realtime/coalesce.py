"""Coalesced publishing: at most one event per key per interval, and always the last state.

A poll taking hundreds of ballots a second does not need hundreds of "participation"
events a second (each stored, then fanned out to every watcher); it needs watchers to see
the count move and to end on the right number. ``Coalescer.poke(key, send)`` runs ``send``
right away when the key has not sent within the interval; otherwise it makes sure ``send``
runs once more when the interval is up, on the process's flusher thread. ``send`` reads the
state it publishes when it runs (not when it was poked), so the event that ends a burst is
computed after the burst's last change was committed.

Coalescing is per process: with N server processes a key sends at most N events per
interval. Events of one key may therefore carry states read in a different order than
their ``seq``; publish values that clients can merge (a count that only grows: keep the
largest).
"""

from __future__ import annotations

import heapq
import logging
import os
import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass

from django.db import connections

logger = logging.getLogger(__name__)

Send = Callable[[], None]
_STATE_MAX = 10_000  # keys remembered per process before idle ones are forgotten


@dataclass
class _Key:
    sent_at: float
    send: Send | None = None  # set while a trailing send is scheduled


class Coalescer:
    def __init__(self, interval: Callable[[], float], name: str) -> None:
        """``interval()`` gives the seconds between a key's sends (0 or less: no
        coalescing, every poke sends at once)."""
        self._interval = interval
        self._name = name
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._keys: dict[Hashable, _Key] = {}
        self._due: list[tuple[float, int, Hashable]] = []
        self._order = 0
        self._pid = 0

    def poke(self, key: Hashable, send: Send, *, defer: bool = False) -> None:
        """Ask for ``send`` to run now or at the end of the key's current interval.

        With ``defer`` a send never runs in the caller, even for a quiet key: it goes to
        the flusher thread at once (for work too slow to charge to a request).
        """
        interval = self._interval()
        if interval <= 0:
            send()
            return
        now = time.monotonic()
        with self._lock:
            state = self._keys.get(key)
            if state is not None and state.send is not None:
                state.send = send  # a trailing send is already scheduled: it runs the latest
                return
            quiet = state is None or now - state.sent_at >= interval
            if quiet and not defer:
                if len(self._keys) >= _STATE_MAX:
                    self._forget_idle(now, interval)
                self._keys[key] = _Key(sent_at=now)
            else:
                if state is None:
                    if len(self._keys) >= _STATE_MAX:
                        self._forget_idle(now, interval)
                    state = self._keys[key] = _Key(sent_at=now - interval)
                state.send = send
                self._order += 1
                due = now if quiet else state.sent_at + interval
                heapq.heappush(self._due, (due, self._order, key))
                self._ensure_thread()
                self._wake.notify()
                return
        send()

    def _forget_idle(self, now: float, interval: float) -> None:
        for key in [k for k, s in self._keys.items() if s.send is None]:
            if now - self._keys[key].sent_at >= interval:
                del self._keys[key]

    def _ensure_thread(self) -> None:
        if self._pid != os.getpid():  # first use, or a forked child
            self._pid = os.getpid()
            threading.Thread(target=self._run, name=f"coalesce-{self._name}", daemon=True).start()

    def _next_send(self) -> Send:
        with self._lock:
            while True:
                if not self._due:
                    self._wake.wait()
                    continue
                due, _, key = self._due[0]
                delay = due - time.monotonic()
                if delay > 0:
                    self._wake.wait(delay)
                    continue
                heapq.heappop(self._due)
                state = self._keys[key]
                send, state.send = state.send, None
                state.sent_at = time.monotonic()
                if send is not None:
                    return send

    def _run(self) -> None:
        while True:
            send = self._next_send()
            try:
                send()
            except Exception:
                logger.exception("coalesced send failed (%s)", self._name)
            finally:
                # Outside any request: hand the database connection back (to the pool, when
                # there is one) rather than hold it between bursts.
                connections.close_all()
