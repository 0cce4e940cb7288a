"""Helpers for tests against the real Directus that `make test` starts.

``with_services.py --directus`` puts DIRECTUS_URL, DIRECTUS_TOKEN (the portal's read
token), DIRECTUS_ADMIN_TOKEN and DIRECTUS_WEBHOOK_SECRET in the environment. The Flow
starts pointed at a closed port; ``flow_point(url)`` aims it at a live portal.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx

from directus.client import DirectusClient

ROOT = Path(__file__).resolve().parents[2]
T = TypeVar("T")


def directus_available() -> bool:
    return bool(os.environ.get("DIRECTUS_URL") and os.environ.get("DIRECTUS_ADMIN_TOKEN"))


def admin_client() -> DirectusClient:
    return DirectusClient(
        base_url=os.environ["DIRECTUS_URL"], token=os.environ["DIRECTUS_ADMIN_TOKEN"], timeout=10
    )


def _setup_module() -> Any:
    path = ROOT / "directus" / "instance" / "setup_directus.py"
    spec = importlib.util.spec_from_file_location("setup_directus", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def flow_point(webhook_url: str) -> None:
    """Repoint the Directus Flow's request operation at ``webhook_url``."""
    setup = _setup_module()
    setup.flow_url_set(
        setup.Api(os.environ["DIRECTUS_URL"], os.environ["DIRECTUS_ADMIN_TOKEN"]), webhook_url
    )


def unique_slug(prefix: str = "doc") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def wait_for(probe: Callable[[], T | None], *, timeout: float = 20, interval: float = 0.05) -> T:
    """Poll ``probe`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s (last: {last!r})")


def page_text(url: str) -> tuple[int, str]:
    response = httpx.get(url, timeout=10, follow_redirects=False)
    return response.status_code, response.text


@contextlib.contextmanager
def worker_running(env: dict[str, str], log_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """``manage.py worker`` against the test database (runs the sync jobs the webhook queues)."""
    full_env = {**os.environ, **env, "JOBS_POLL_INTERVAL_MS": "50"}
    full_env.pop("PYTEST_CURRENT_TEST", None)
    full_env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    log = open(log_path, "wb")  # noqa: SIM115
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "worker", "--no-schedules", "--concurrency", "2"],
        cwd=ROOT,
        env=full_env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        time.sleep(0.5)
        if proc.poll() is not None:
            raise RuntimeError(f"worker exited: {log_path.read_text(errors='replace')[-3000:]}")
        yield proc
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)
        log.close()


@contextlib.contextmanager
def directus_paused() -> Iterator[None]:
    """Freeze the Directus process (SIGSTOP): it stops answering, as if it were down."""
    pid = int(os.environ["DIRECTUS_PID"])
    os.killpg(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.killpg(pid, signal.SIGCONT)
