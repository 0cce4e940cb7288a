"""Run the real ASGI app (uvicorn) in a subprocess against the test database.

Used by the browser harness (``conftest.py``) and the API benchmark.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def database_url_for(db: Mapping[str, Any]) -> str | None:
    """A ``DATABASE_URL`` another process can use to reach ``db``; None for in-memory SQLite."""
    engine = db["ENGINE"]
    if engine in ("portal.postgresql", "django.db.backends.postgresql"):
        user = quote(str(db.get("USER") or ""), safe="")
        password = quote(str(db.get("PASSWORD") or ""), safe="")
        auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
        host = db.get("HOST") or "127.0.0.1"
        port = f":{db['PORT']}" if db.get("PORT") else ""
        return f"postgres://{auth}{host}{port}/{quote(str(db['NAME']), safe='')}"
    if engine == "django.db.backends.sqlite3":
        name = str(db["NAME"])
        if name == ":memory:" or name.startswith("file:") or "mode=memory" in name:
            return None
        return f"sqlite:///{Path(name).resolve()}"
    raise RuntimeError(f"no DATABASE_URL for engine {engine}")


def _wait_ready(url: str, proc: subprocess.Popen[bytes], timeout: float, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(
                f"uvicorn exited with {proc.returncode}:\n{log.read_text(errors='replace')[-4000:]}"
            )
        with (
            contextlib.suppress(OSError, urllib.error.URLError),
            urllib.request.urlopen(f"{url}/healthz", timeout=1) as response,  # noqa: S310
        ):
            if response.status == 200:
                return
        time.sleep(0.1)
    raise RuntimeError(
        f"uvicorn not ready after {timeout}s:\n{log.read_text(errors='replace')[-4000:]}"
    )


@dataclass(frozen=True)
class ServerProcess:
    url: str
    pid: int

    def cpu_seconds(self) -> float:
        """User + system CPU time of every process in the server's session (workers too)."""
        ticks = os.sysconf("SC_CLK_TCK")
        total = 0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            # After the command name: state ppid pgrp session ... utime(12) stime(13).
            if int(fields[3]) == self.pid:
                total += int(fields[11]) + int(fields[12])
        return total / ticks

    def wait_idle(
        self, *, busy_below: float = 0.05, window: float = 0.5, timeout: float = 90
    ) -> None:
        """Wait until the server's processes use under ``busy_below`` of a core for a
        ``window``: with several workers the first answers health checks while the others
        are still importing the application, and a benchmark started then would measure
        the imports (and pin its connections to the workers that happened to be ready)."""
        deadline = time.monotonic() + timeout
        before = self.cpu_seconds()
        while time.monotonic() < deadline:
            time.sleep(window)
            now = self.cpu_seconds()
            if now - before < busy_below * window:
                return
            before = now
        raise TimeoutError(f"server still busy after {timeout:.0f} s")


@contextlib.contextmanager
def uvicorn_process(
    *,
    env: Mapping[str, str],
    log_path: Path,
    workers: int = 1,
    timeout: float = 60,
    extra_args: tuple[str, ...] = (),
) -> Iterator[ServerProcess]:
    """Serve ``config.asgi:application`` on a free loopback port in its own session."""
    port = free_port()
    full_env = {**os.environ, **env}
    # The subprocess is not under pytest: it must not see the test process's markers.
    full_env.pop("PYTEST_CURRENT_TEST", None)
    full_env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    # Several workers run under the portal's launcher, as in production (one socket each).
    launcher = ["config.serve"] if workers > 1 else ["uvicorn", "config.asgi:application"]
    cmd = [
        sys.executable, "-m", *launcher,
        "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
        "--log-level", "warning", "--no-access-log", "--lifespan", "off", *extra_args,
    ]  # fmt: skip
    log = open(log_path, "wb")  # noqa: SIM115
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env=full_env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(url, proc, timeout, log_path)
        yield ServerProcess(url=url, pid=proc.pid)
    finally:
        if proc.poll() is None:
            # Its own session: signal the whole group (uvicorn's worker processes too).
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)
        log.close()


@contextlib.contextmanager
def uvicorn_server(
    *, env: Mapping[str, str], log_path: Path, workers: int = 1, timeout: float = 60
) -> Iterator[str]:
    """Like ``uvicorn_process`` but yields just the base URL."""
    with uvicorn_process(env=env, log_path=log_path, workers=workers, timeout=timeout) as server:
        yield server.url
