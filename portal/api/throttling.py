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


def window_count(key: str, timeout: int) -> int:
    """Increment the counter ``key`` (created with ``timeout``) and return the new value."""
    backend = caches["default"]
    if isinstance(backend, RedisCache):
        # One round trip: INCR creates the key; EXPIRE bounds its life.
        full_key = backend.make_and_validate_key(key)
        client = backend._cache.get_client(full_key, write=True)  # type: ignore[attr-defined]
        pipe = client.pipeline(transaction=False)
        pipe.incr(full_key)
        pipe.expire(full_key, timeout)
        count, _ = pipe.execute()
        return int(count)
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

    def allow_request(self, request: Any, view: Any) -> bool:
        if self.rate is None:
            return True
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        now = self.timer()
        window = int(now // self.duration)
        self.wait_seconds = (window + 1) * self.duration - now
        count = window_count(f"{key}:{window}", self.duration + 1)
        return count <= self.num_requests

    def wait(self) -> float:
        return max(1.0, getattr(self, "wait_seconds", float(self.duration or 1)))


class UserRateThrottle(FixedWindowRateThrottle, throttling.UserRateThrottle):
    """Per signed-in user (per IP for anonymous requests), rate ``user``."""


class AnonRateThrottle(FixedWindowRateThrottle, throttling.AnonRateThrottle):
    """Per IP for anonymous requests, rate ``anon``."""


class ScopedRateThrottle(throttling.ScopedRateThrottle, FixedWindowRateThrottle):
    """Per view scope (``throttle_scope = "vote"`` …) and user; DRF's scope lookup first."""
