"""Realtime fan-out: one ``publish()`` to 1,000 websocket clients over the Redis pub/sub layer.

The portal's launcher (`config.serve`, 2 uvicorn workers) runs against the bench's PostgreSQL test
database and Redis; the clients are ``websockets`` connections from this process over
127.0.0.1, all subscribed to the public ``hud`` topic. Figures printed:

- baseline: publish() → the event at a single subscribed client, same server, same run;
- fan-out: publish() → the event at the LAST of 1,000 clients, p50/p95 over 30 rounds
  (target p95 < 250 ms);
- reconnect: 100 clients are dropped abruptly, events are published while they are away,
  they reconnect with ``after_seq`` — no event may be lost, duplicated or out of order, on
  any of the 1,000 clients.

Needs PostgreSQL (the server subprocess must see the test database) and REDIS_URL;
``make bench`` provides both.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import resource
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings
from django.db import connection, connections

from portal.realtime import publish

N_CLIENTS = int(os.environ.get("BENCH_REALTIME_CLIENTS", "1000"))
ROUNDS = 30
BASELINE_ROUNDS = 10
N_RECONNECT = 100
AWAY_EVENTS = 5
TOPIC = "hud"
EVENT_TYPE = "bench.tick"
TARGET_P95_MS = 250.0
ROUND_TIMEOUT_S = 15.0
CONNECT_CONCURRENCY = 50
COMPRESSION = os.environ.get("BENCH_REALTIME_COMPRESSION", "deflate") or None
ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.django_db(transaction=True)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _raise_nofile(wanted: int) -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def _group_cpu_seconds(pgid: int) -> float:
    """User+system CPU of every process in the process group (the uvicorn server)."""
    ticks = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) == pgid:  # field 5 (pgrp), counted after the ")"
                ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def _loop_factory() -> Any:
    # 1,000 client sockets live in this one process: use uvloop, as uvicorn does.
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


@contextlib.contextmanager
def uvicorn_server(database_url: str, redis_url: str, prefix: str) -> Iterator[tuple[int, int]]:
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "CHANNEL_PREFIX": prefix,
        # Production settings, except TLS: the clients speak plain ws:// over loopback.
        "AGORA_TESTING": "0",
        "DEBUG": "0",
        "SECRET_KEY": "bench-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "0",
        "SECURE_HSTS_SECONDS": "0",
        "SESSION_COOKIE_SECURE": "0",
        "CSRF_COOKIE_SECURE": "0",
        "LOG_LEVEL": "WARNING",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "config.serve", "--host", "127.0.0.1",
         "--port", str(port), "--workers", "2", "--log-level", "warning", "--no-access-log",
         "--backlog", "4096"],
        cwd=ROOT, env=env, start_new_session=True,
    )  # fmt: skip
    try:
        yield port, proc.pid
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)


class Tracker:
    """When did the n-th client receive the event of each round."""

    def __init__(self) -> None:
        self.expected: dict[int, int] = {}
        self.count: dict[int, int] = {}
        self.done: dict[int, asyncio.Event] = {}
        self.last_at: dict[int, float] = {}

    def expect(self, round_no: int, clients: int) -> asyncio.Event:
        self.expected[round_no] = clients
        self.count[round_no] = 0
        self.done[round_no] = asyncio.Event()
        return self.done[round_no]

    def seen(self, round_no: int, at: float) -> None:
        if round_no not in self.expected:
            return
        self.count[round_no] += 1
        if self.count[round_no] == self.expected[round_no]:
            self.last_at[round_no] = at
            self.done[round_no].set()


class Client:
    def __init__(self, url: str, origin: str, tracker: Tracker) -> None:
        self.url = url
        self.origin = origin
        self.tracker = tracker
        self.ws: Any = None
        self.reader: asyncio.Task[None] | None = None
        self.first_ack: int | None = None
        self.seqs: list[int] = []
        self.caught_up = asyncio.Event()
        self.wait_for_seq = 0

    async def connect(self, after_seq: int | None = None) -> None:
        from websockets.asyncio.client import connect

        self.ws = await connect(
            self.url,
            origin=self.origin,
            open_timeout=60,
            ping_interval=None,
            max_queue=None,
            compression=COMPRESSION,
        )  # type: ignore[arg-type]
        message: dict[str, Any] = {"action": "subscribe", "topic": TOPIC}
        if after_seq is not None:
            message["after_seq"] = after_seq
        await self.ws.send(json.dumps(message))
        ack = json.loads(await self.ws.recv())
        assert ack["type"] == "subscribed", ack
        if self.first_ack is None:
            self.first_ack = ack["seq"]
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        from websockets.exceptions import ConnectionClosed

        with contextlib.suppress(ConnectionClosed):
            async for raw in self.ws:
                at = time.perf_counter()
                event = json.loads(raw)
                if event.get("type") != EVENT_TYPE:
                    continue
                self.seqs.append(event["seq"])
                self.tracker.seen(event["data"]["round"], at)
                if self.wait_for_seq and event["seq"] >= self.wait_for_seq:
                    self.caught_up.set()

    async def drop(self) -> None:
        """Abrupt loss of the connection (no closing handshake)."""
        self.ws.transport.abort()
        if self.reader is not None:
            await self.reader

    async def close(self) -> None:
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.ws.close(), 5)
        if self.reader is not None:
            self.reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.reader


def test_realtime_fanout_to_1000_clients_and_lossless_reconnect() -> None:
    redis_url = os.environ.get("REDIS_URL")
    if not redis_url:
        pytest.skip("REDIS_URL is not set: the realtime bench runs over the Redis layer")
    if connection.vendor != "postgresql":
        pytest.skip("the server subprocess must share the test database: needs PostgreSQL")
    assert settings.CHANNEL_LAYERS["default"]["BACKEND"].endswith("RedisPubSubChannelLayer")

    nofile = _raise_nofile(N_CLIENTS * 2 + 1024)
    assert nofile > N_CLIENTS + 100, f"RLIMIT_NOFILE {nofile} is too low for {N_CLIENTS} sockets"
    url = urlsplit(os.environ["DATABASE_URL"])
    test_db_url = urlunsplit(url._replace(path="/" + connection.settings_dict["NAME"]))
    prefix = settings.CHANNEL_LAYERS["default"]["CONFIG"].get("prefix", "asgi")

    # publish() is sync code: run it on one thread, as a service or job would.
    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bench-publish")
    try:
        with (
            uvicorn_server(test_db_url, redis_url, prefix) as (port, server_pgid),
            asyncio.Runner(loop_factory=_loop_factory()) as runner,
        ):
            base, fan, publish_ms, cpu, recon = runner.run(
                asyncio.wait_for(_bench(port, server_pgid, executor), 170)
            )
    finally:
        executor.submit(connections.close_all).result()  # the thread's own connection
        executor.shutdown()

    p95 = _pct(fan, 0.95)
    lines = [
        "realtime bench: config.serve (2 uvicorn workers), RedisPubSubChannelLayer, PostgreSQL,"
        f" loopback, client compression {COMPRESSION or 'off'}",
        f"  baseline publish() -> 1 client:        p50 {statistics.median(base):7.1f} ms"
        f"  p95 {_pct(base, 0.95):7.1f} ms  ({len(base)} rounds)",
        f"  fan-out  publish() -> last of {N_CLIENTS}:  p50 {statistics.median(fan):7.1f} ms"
        f"  p95 {p95:7.1f} ms  max {max(fan):7.1f} ms  ({len(fan)} rounds)",
        f"  publish() call itself:                 p50 {statistics.median(publish_ms):7.1f} ms",
        f"  CPU per fan-out event: server {cpu['server']:.1f} ms (2 workers together),"
        f" clients {cpu['clients']:.1f} ms (this process) on {os.cpu_count()} cores;"
        " load average {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()),
        f"  fan-out / baseline (p50): {statistics.median(fan) / statistics.median(base):.1f}x;"
        f"  target p95 < {TARGET_P95_MS:.0f} ms: {'met' if p95 < TARGET_P95_MS else 'NOT met'}",
        f"  reconnect: {N_RECONNECT} clients dropped, {AWAY_EVENTS} events while away, 3 during"
        f" the reconnect -> lost {recon['lost']}, duplicated {recon['duplicated']},"
        f" out of order {recon['out_of_order']} (checked on all {N_CLIENTS} clients)",
    ]
    print("\n" + "\n".join(lines))
    assert recon["lost"] == 0
    assert recon["duplicated"] == 0
    assert recon["out_of_order"] == 0
    assert p95 < TARGET_P95_MS, f"fan-out p95 {p95:.1f} ms"


async def _bench(
    port: int, server_pgid: int, executor: ThreadPoolExecutor
) -> tuple[list[float], list[float], list[float], dict[str, float], dict[str, int]]:
    loop = asyncio.get_running_loop()
    tracker = Tracker()
    url = f"ws://127.0.0.1:{port}/ws/"
    origin = f"http://127.0.0.1:{port}"
    round_no = 0
    publish_ms: list[float] = []

    async def publish_and_wait(clients: int) -> float:
        nonlocal round_no
        round_no += 1
        done = tracker.expect(round_no, clients)
        started = time.perf_counter()
        await loop.run_in_executor(executor, publish, TOPIC, EVENT_TYPE, {"round": round_no})
        publish_ms.append((time.perf_counter() - started) * 1000)
        try:
            await asyncio.wait_for(done.wait(), ROUND_TIMEOUT_S)
        except TimeoutError:
            got = tracker.count[round_no]
            raise AssertionError(
                f"round {round_no}: {got} of {clients} clients got the event"
            ) from None
        return (tracker.last_at[round_no] - started) * 1000

    clients = [Client(url, origin, tracker) for _ in range(N_CLIENTS)]
    try:
        # The server is up once a socket completes the subscribe handshake.
        deadline = time.monotonic() + 60
        while True:
            try:
                await clients[0].connect()
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.25)

        for _ in range(3):  # warm up both the publisher and the server
            await publish_and_wait(1)
        baseline = [await publish_and_wait(1) for _ in range(BASELINE_ROUNDS)]

        gate = asyncio.Semaphore(CONNECT_CONCURRENCY)

        async def connect_one(client: Client) -> None:
            async with gate:
                await client.connect()

        started = time.perf_counter()
        await asyncio.gather(*(connect_one(c) for c in clients[1:]))
        print(f"\n  connected {N_CLIENTS} clients in {time.perf_counter() - started:.1f} s")

        for _ in range(3):
            await publish_and_wait(N_CLIENTS)
        publish_ms.clear()
        fanout = []
        cpu_server, cpu_clients = _group_cpu_seconds(server_pgid), time.process_time()
        for _ in range(ROUNDS):
            fanout.append(await publish_and_wait(N_CLIENTS))
            await asyncio.sleep(0.05)
        cpu = {
            "server": (_group_cpu_seconds(server_pgid) - cpu_server) * 1000 / ROUNDS,
            "clients": (time.process_time() - cpu_clients) * 1000 / ROUNDS,
        }
        fanout_publish_ms = list(publish_ms)

        # Forced disconnect of 100 clients; events go out while they are away.
        away = clients[-N_RECONNECT:]
        await asyncio.gather(*(c.drop() for c in away))
        await asyncio.sleep(0.5)  # let the server notice and leave the groups
        for _ in range(AWAY_EVENTS):
            await publish_and_wait(N_CLIENTS - N_RECONNECT)
        final_seq = max(clients[0].seqs)

        async def publish_during_reconnect() -> None:
            # Live events racing the reconnects' replay: still exactly once, in order.
            for _ in range(3):
                await asyncio.sleep(0.02)
                await loop.run_in_executor(executor, publish, TOPIC, EVENT_TYPE, {"round": 0})

        started = time.perf_counter()
        await asyncio.gather(
            publish_during_reconnect(), *(connect_one_after(c, gate) for c in away)
        )
        final_seq += 3
        for client in away:
            client.wait_for_seq = final_seq
            if client.seqs and client.seqs[-1] >= final_seq:
                client.caught_up.set()
        await asyncio.wait_for(asyncio.gather(*(c.caught_up.wait() for c in away)), 30)
        print(f"  {N_RECONNECT} clients reconnected and caught up in "
              f"{time.perf_counter() - started:.2f} s")  # fmt: skip
        # One more live event: everyone, reconnected or not, must get it exactly once.
        await publish_and_wait(N_CLIENTS)
        final_seq += 1
        await asyncio.sleep(0.3)

        lost = duplicated = out_of_order = 0
        for client in clients:
            assert client.first_ack is not None
            expected = list(range(client.first_ack + 1, final_seq + 1))
            got = client.seqs
            duplicated += len(got) - len(set(got))
            out_of_order += sum(1 for a, b in itertools.pairwise(got) if b <= a)
            lost += len(set(expected) - set(got))
        recon = {
            "lost": lost,
            "duplicated": duplicated,
            "out_of_order": out_of_order,
            "events": final_seq - (clients[-1].first_ack or 0),
        }
        return baseline, fanout, fanout_publish_ms, cpu, recon
    finally:
        await asyncio.gather(*(c.close() for c in clients), return_exceptions=True)


async def connect_one_after(client: Client, gate: asyncio.Semaphore) -> None:
    async with gate:
        await client.connect(after_seq=max(client.seqs) if client.seqs else client.first_ack)
