"""API baseline: ``GET /api/v1/me/`` (bearer token) against a bare Django JSON view.

Both are served by the same production-like uvicorn process in the same run (DEBUG off,
PostgreSQL, Redis cache for throttling), hit by 20 concurrent keep-alive clients over
127.0.0.1. The two endpoints are measured in alternating rounds so drift on a shared
machine affects both alike. Printed: p50/p95 latency, requests/s and the API/bare ratio
(target: within 1.5x).
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time

import httpx
import pytest

from portal.accounts.tokens import token_create
from tests.benchmarks.conftest import percentile
from tests.browser.server import ServerProcess
from tests.factories import UserFactory

CLIENTS = 20
REQUESTS_PER_ROUND = int(os.environ.get("BENCH_API_REQUESTS", "2000"))
ROUNDS = 3
WARMUP = 200
TARGET_RATIO = 1.5
ROUND_TIMEOUT_S = 120

pytestmark = pytest.mark.django_db(transaction=True)


async def _round(
    client: httpx.AsyncClient, path: str, total: int, headers: dict[str, str]
) -> tuple[list[float], float]:
    """``total`` GETs of ``path`` by CLIENTS concurrent workers; latencies (s) and wall time."""
    latencies: list[float] = []
    remaining = total

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            started = time.perf_counter()
            response = await client.get(path, headers=headers)
            latencies.append(time.perf_counter() - started)
            if response.status_code != 200:
                raise AssertionError(f"{path}: {response.status_code} {response.text[:300]}")

    started = time.perf_counter()
    await asyncio.wait_for(asyncio.gather(*(worker() for _ in range(CLIENTS))), ROUND_TIMEOUT_S)
    return latencies, time.perf_counter() - started


async def _bench(server: ServerProcess, auth: dict[str, str]) -> dict[str, dict[str, float]]:
    targets = {"bare": ("/api/v1/bench/bare/", {}), "api": ("/api/v1/me/", auth)}
    samples: dict[str, list[float]] = {name: [] for name in targets}
    walls: dict[str, float] = dict.fromkeys(targets, 0.0)
    cpu: dict[str, float] = dict.fromkeys(targets, 0.0)
    limits = httpx.Limits(max_connections=CLIENTS, max_keepalive_connections=CLIENTS)
    async with httpx.AsyncClient(base_url=server.url, limits=limits, timeout=60) as client:
        for path, headers in targets.values():
            await _round(client, path, WARMUP, headers)
        for _ in range(ROUNDS):
            for name, (path, headers) in targets.items():
                cpu_before = server.cpu_seconds()
                latencies, wall = await _round(client, path, REQUESTS_PER_ROUND, headers)
                cpu[name] += server.cpu_seconds() - cpu_before
                samples[name].extend(latencies)
                walls[name] += wall
    return {
        name: {
            "p50_ms": percentile(samples[name], 0.50) * 1000,
            "p95_ms": percentile(samples[name], 0.95) * 1000,
            "mean_ms": statistics.fmean(samples[name]) * 1000,
            "rps": len(samples[name]) / walls[name],
            "cpu_ms": cpu[name] * 1000 / len(samples[name]),
            "n": len(samples[name]),
        }
        for name in targets
    }


def test_api_me_within_target_of_a_bare_django_view(prod_like_server):
    user = UserFactory(role="maintainer")
    _, secret = token_create(user=user, name="bench")
    auth = {"Authorization": f"Bearer {secret}"}
    workers = int(os.environ.get("BENCH_API_WORKERS", "1"))
    with prod_like_server(
        workers=workers, AGORA_BENCH="1", API_THROTTLE_USER="10000000/min"
    ) as server:
        check = httpx.get(f"{server.url}/api/v1/me/", headers=auth, timeout=10)
        assert check.status_code == 200 and check.json()["username"] == user.username
        assert httpx.get(f"{server.url}/api/v1/bench/bare/", timeout=10).status_code == 200
        stats = asyncio.run(_bench(server, auth))

    bare, api = stats["bare"], stats["api"]
    ratio_p50 = api["p50_ms"] / bare["p50_ms"]
    ratio_rps = bare["rps"] / api["rps"]
    ratio_cpu = api["cpu_ms"] / bare["cpu_ms"] if bare["cpu_ms"] else float("nan")
    print()
    print(
        f"API benchmark: {CLIENTS} concurrent clients, {ROUNDS}x{REQUESTS_PER_ROUND} "
        f"requests per endpoint, uvicorn workers={workers}, DEBUG off, PostgreSQL + Redis, "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    )
    for name, label in (("bare", "bare Django JSON view"), ("api", "GET /api/v1/me/ (bearer)")):
        s = stats[name]
        print(
            f"  {label:<26} p50 {s['p50_ms']:7.2f} ms  p95 {s['p95_ms']:7.2f} ms  "
            f"{s['rps']:7.1f} req/s  server CPU {s['cpu_ms']:5.2f} ms/req  (n={s['n']:.0f})"
        )
    print(
        f"  ratio API/bare: p50 {ratio_p50:.2f}x, throughput {ratio_rps:.2f}x, "
        f"server CPU per request {ratio_cpu:.2f}x (target <= {TARGET_RATIO}x)"
    )
    assert ratio_rps <= TARGET_RATIO, f"API throughput is {ratio_rps:.2f}x below the bare view"
