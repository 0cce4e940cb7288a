"""Liveness and readiness checks, and who may read ``/metrics``.

Readiness checks each dependency with its own time limit and reports every result, so
an operator sees at once which component is failing. Directus is optional: pages are
served from the content mirror, so Directus being down only degrades freshness.
"""

from __future__ import annotations

import asyncio
import hmac
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import redis  # noqa: F401  (imported up front: the first probe must not pay for it)
from django.conf import settings
from django.core.cache import caches
from django.db import connections
from django.http import HttpRequest

DEFAULT_CHECK_TIMEOUT = 2.0


@dataclass
class CheckResult:
    ok: bool
    ms: float
    error: str = ""

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"ok": self.ok, "ms": round(self.ms, 1)}
        if self.error:
            data["error"] = self.error
        return data


@dataclass
class Readiness:
    checks: dict[str, CheckResult] = field(default_factory=dict)
    optional: frozenset[str] = frozenset()

    @property
    def failing(self) -> list[str]:
        return [name for name, r in self.checks.items() if not r.ok and name not in self.optional]

    @property
    def status(self) -> str:
        if self.failing:
            return "fail"
        if any(not r.ok for r in self.checks.values()):
            return "degraded"
        return "ok"

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "status": self.status,
            "checks": {name: r.as_dict() for name, r in self.checks.items()},
        }
        if self.failing:
            data["failing"] = self.failing
        return data


def _timeout() -> float:
    return float(getattr(settings, "READINESS_CHECK_TIMEOUT", DEFAULT_CHECK_TIMEOUT))


def _describe(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}"[:300] if text else type(exc).__name__


def _timed(fn: Callable[[], None]) -> CheckResult:
    started = time.perf_counter()
    try:
        fn()
    except Exception as exc:
        return CheckResult(False, (time.perf_counter() - started) * 1000, _describe(exc))
    return CheckResult(True, (time.perf_counter() - started) * 1000)


def _timed_in_thread(fn: Callable[[], None], timeout: float) -> CheckResult:
    """Run a check in a daemon thread so a hung connection cannot hang the probe."""
    box: list[CheckResult] = []
    thread = threading.Thread(target=lambda: box.append(_timed(fn)), daemon=True)
    thread.start()
    thread.join(timeout)
    if not box:
        return CheckResult(False, timeout * 1000, f"no answer within {timeout:g}s")
    return box[0]


def check_database() -> CheckResult:
    # In the request thread: Django connections belong to their thread.
    def probe() -> None:
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT 1")
            if cursor.fetchone() != (1,):
                raise RuntimeError("SELECT 1 returned something else")

    return _timed(probe)


def check_cache() -> CheckResult:
    # The backend is built here rather than in the probe thread (no network I/O yet), so
    # importing a client library on first use never counts against the timeout.
    # Cache backends are thread-safe.
    cache = caches["default"]

    def probe() -> None:
        key = f"readyz:{uuid.uuid4().hex}"
        value = uuid.uuid4().hex
        cache.set(key, value, timeout=30)
        got = cache.get(key)
        cache.delete(key)
        if got != value:
            raise RuntimeError("value read back differs from the value written")

    return _timed_in_thread(probe, _timeout())


def check_channel_layer() -> CheckResult:
    from channels.layers import get_channel_layer

    timeout = _timeout()
    layer = get_channel_layer()  # built (and its module imported) outside the timed probe

    def probe() -> None:
        if layer is None:
            raise RuntimeError("no channel layer configured")

        async def roundtrip() -> None:
            channel = await layer.new_channel()
            nonce = uuid.uuid4().hex
            await layer.send(channel, {"type": "readyz.ping", "nonce": nonce})
            message = await asyncio.wait_for(layer.receive(channel), timeout)
            if message.get("nonce") != nonce:
                raise RuntimeError("received a different message than the one sent")

        # A fresh event loop in this thread; closing it closes the layer's connections.
        asyncio.run(asyncio.wait_for(roundtrip(), timeout))

    return _timed_in_thread(probe, timeout + 0.5)


def check_directus(base_url: str) -> CheckResult:
    timeout = min(_timeout(), float(getattr(settings, "DIRECTUS_TIMEOUT", 5.0)))

    def probe() -> None:
        response = httpx.get(f"{base_url.rstrip('/')}/server/ping", timeout=timeout)
        if response.status_code != 200:
            raise RuntimeError(f"/server/ping answered HTTP {response.status_code}")

    return _timed(probe)


def readiness_check() -> Readiness:
    """Check every dependency the portal needs to serve requests."""
    report = Readiness()
    report.checks["database"] = check_database()
    report.checks["cache"] = check_cache()
    report.checks["channel_layer"] = check_channel_layer()
    directus_url = getattr(settings, "DIRECTUS_URL", "")
    if directus_url:
        report.checks["directus"] = check_directus(directus_url)
        report.optional = frozenset({"directus"})
    return report


def metrics_access(request: HttpRequest) -> int:
    """200 if ``request`` may read metrics, else the status to refuse it with (401/403).

    Stewards (session) may; so may ``Authorization: Bearer <METRICS_TOKEN>``, compared in
    constant time.
    """
    header = request.headers.get("Authorization", "")
    token = getattr(settings, "METRICS_TOKEN", "")
    if header:
        scheme, _, presented = header.partition(" ")
        if (
            token
            and scheme.lower() == "bearer"
            and hmac.compare_digest(presented.strip().encode(), token.encode())
        ):
            return 200
        return 401
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return 200 if user.is_steward else 403
    return 401
