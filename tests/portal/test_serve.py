"""The production launcher: one listening socket per worker, restarts, clean shutdown."""

from __future__ import annotations

import os
import signal
import socket
import time
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings

from config.serve import listening_sockets
from portal.procs import pid_alive
from tests.browser.server import database_url_for, free_port, uvicorn_process


def test_each_worker_has_its_own_socket_and_the_kernel_spreads_connections() -> None:
    port = free_port()
    sockets = listening_sockets("127.0.0.1", port, 3, 128)
    clients = []
    try:
        assert all(s.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT) for s in sockets)
        assert {s.getsockname()[1] for s in sockets} == {port}
        clients = [socket.create_connection(("127.0.0.1", port)) for _ in range(60)]
        accepted = []
        for sock in sockets:
            sock.setblocking(False)
            count = 0
            while True:
                try:
                    conn, _ = sock.accept()
                except BlockingIOError:
                    break
                conn.close()
                count += 1
            accepted.append(count)
        assert sum(accepted) == 60
        assert all(count > 0 for count in accepted), accepted  # not all on one worker
    finally:
        for sock in [*sockets, *clients]:
            sock.close()


def _children(pid: int) -> set[int]:
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.add(int(stat.parent.name))
    return found


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _is_worker(pid: int) -> bool:
    return b"multiprocessing.spawn" in _cmdline(pid) and b"spawn_main" in _cmdline(pid)


def _healthy(url: str) -> bool:
    with urllib.request.urlopen(f"{url}/healthz", timeout=5) as response:  # noqa: S310
        return bool(response.status == 200)


@pytest.mark.django_db
def test_the_launcher_serves_restarts_a_dead_worker_and_stops_on_sigterm(tmp_path) -> None:
    database_url = database_url_for(settings.DATABASES["default"])
    if database_url is None:
        pytest.skip("needs a database another process can open (make test: PostgreSQL)")
    env = {"DATABASE_URL": database_url, "AGORA_TESTING": "1", "DEBUG": "1"}
    with uvicorn_process(env=env, log_path=tmp_path / "serve.log", workers=2) as server:
        deadline = time.monotonic() + 60
        while len({p for p in _children(server.pid) if _is_worker(p)}) < 2:
            assert time.monotonic() < deadline, "two workers never appeared"
            time.sleep(0.2)
        workers = {p for p in _children(server.pid) if _is_worker(p)}
        assert _healthy(server.url)

        victim = min(workers)
        os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + 60
        while True:
            now = {p for p in _children(server.pid) if _is_worker(p)}
            if len(now) == 2 and victim not in now:
                break
            assert time.monotonic() < deadline, "the dead worker was not replaced"
            time.sleep(0.2)
        server.wait_idle()
        assert _healthy(server.url)

        os.kill(server.pid, signal.SIGTERM)
        deadline = time.monotonic() + 30
        while any(pid_alive(p) for p in now) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not [p for p in now if pid_alive(p)], "workers outlived the launcher"
