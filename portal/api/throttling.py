"""Rate limits with O(1) work per request (fixed windows counted by one atomic increment).

DRF's stock throttles keep the timestamp of every request in the window in one cache
entry, which each request reads, rewrites and sends back: with a rate of 6000/min a busy
client makes every request move a 6000-element list. Fixed windows allow a burst of up to
twice the rate across a window boundary, which is fine for abuse protection.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from rest_framework import throttling


def window_counts(windows: list[tuple[str, int]]) -> list[int]:
    """Increment each counter ``(key, timeout)`` (created with its timeout) and return the
    new values: one round trip for all of them on Redis."""
    backend = caches["default"]
    if isinstance(backend, RedisCache) and windows:
        # INCR creates the key; EXPIRE bounds its life.
        keys = [backend.make_and_validate_key(key) for key, _ in windows]
        client = backend._cache.get_client(keys[0], write=True)  # type: ignore[attr-defined]
        pipe = client.pipeline(transaction=False)
        for full_key, (_, timeout) in zip(keys, windows, strict=True):
            pipe.incr(full_key)
            pipe.expire(full_key, timeout)
        replies = pipe.execute()
        return [int(count) for count in replies[::2]]
    return [_count_in_cache(key, timeout) for key, timeout in windows]


def window_count(key: str, timeout: int) -> int:
    """Increment the counter ``key`` (created with ``timeout``) and return the new value."""
    return window_counts([(key, timeout)])[0]


def _count_in_cache(key: str, timeout: int) -> int:
    if cache.add(key, 1, timeout):
        return 1
    try:
        return cache.incr(key)
    except ValueError:  # expired between add() and incr()
        cache.set(key, 1, timeout)
        return 1


class FixedWindowRateThrottle(throttling.SimpleRateThrottle):
    """``SimpleRateThrottle`` counting fixed windows instead of logging every request."""

    timer = staticmethod(time.time)
    num_requests: int
    duration: int

    def window(self, request: Any, view: Any) -> tuple[str, int] | None:
        """This request's counter key and lifetime, or ``None`` when it is not limited."""
        if self.rate is None:
            return None
        key = self.get_cache_key(request, view)
        if key is None:
            return None
        now = self.timer()
        window = int(now // self.duration)
        self.wait_seconds = (window + 1) * self.duration - now
        return f"{key}:{window}", self.duration + 1

    def allow_request(self, request: Any, view: Any) -> bool:
        found = self.window(request, view)
        return found is None or window_count(*found) <= self.num_requests

    def wait(self) -> float:
        return max(1.0, getattr(self, "wait_seconds", float(self.duration or 1)))


class UserRateThrottle(FixedWindowRateThrottle, throttling.UserRateThrottle):
    """Per signed-in user (per IP for anonymous requests), rate ``user``."""


class AnonRateThrottle(FixedWindowRateThrottle, throttling.AnonRateThrottle):
    """Per IP for anonymous requests, rate ``anon``."""


class ScopedRateThrottle(throttling.ScopedRateThrottle, FixedWindowRateThrottle):
    """Per view scope (``throttle_scope = "vote"`` …) and user; DRF's scope lookup first."""

    def window(self, request: Any, view: Any) -> tuple[str, int] | None:
        # DRF's ScopedRateThrottle resolves its rate in allow_request; do it here instead.
        self.scope = getattr(view, self.scope_attr, None)
        if not self.scope:
            return None
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)  # type: ignore[assignment]
        return super().window(request, view)

    def allow_request(self, request: Any, view: Any) -> bool:
        return FixedWindowRateThrottle.allow_request(self, request, view)


class BatchedThrottlesMixin:
    """For API views: count all of a request's fixed-window limits in one round trip
    (DRF asks each throttle in turn, one cache round trip each)."""

    def check_throttles(self, request: Any) -> None:
        waits: list[float | None] = []
        windows: list[tuple[FixedWindowRateThrottle, tuple[str, int]]] = []
        for throttle in self.get_throttles():  # type: ignore[attr-defined]
            if isinstance(throttle, FixedWindowRateThrottle):
                found = throttle.window(request, self)
                if found is not None:
                    windows.append((throttle, found))
            elif not throttle.allow_request(request, self):
                waits.append(throttle.wait())
        counts = window_counts([found for _, found in windows])
        for (throttle, _), count in zip(windows, counts, strict=True):
            if count > throttle.num_requests:
                waits.append(throttle.wait())
        if waits:
            durations = [d for d in waits if d is not None]
            self.throttled(request, max(durations, default=None))  # type: ignore[attr-defined]
