"""Shared helpers for benchmarks: a production-like server on the bench's test database."""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import pytest
from django.conf import settings

from tests.browser.server import ServerProcess, database_url_for, uvicorn_process

BENCH_SECRET_KEY = "bench-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz"


@pytest.fixture(autouse=True)
def quiet_request_logs() -> Iterator[None]:
    """Benchmarks print their figures; one access-log line per request would bury them."""
    loggers = [logging.getLogger(name) for name in ("agora.access", "agora.jobs")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.WARNING)
    yield
    for logger, level in zip(loggers, levels, strict=True):
        logger.setLevel(level)


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile of ``values`` (q in 0..1)."""
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


@pytest.fixture
def prod_like_server(
    django_db_setup: object, tmp_path: Path
) -> Callable[..., AbstractContextManager[ServerProcess]]:
    """``with prod_like_server(workers=1, **env) as server:`` — uvicorn with DEBUG off.

    Production settings (no DEBUG, a real secret key, manifest static storage, JSON logs)
    except TLS: the clients speak plain HTTP over loopback, so the SSL redirect is off.
    """
    database_url = database_url_for(settings.DATABASES["default"])
    if database_url is None:
        pytest.skip("benchmarks need PostgreSQL or a file database: run them with `make bench`")

    @contextlib.contextmanager
    def start(*, workers: int = 1, **extra_env: str) -> Iterator[ServerProcess]:
        env = {
            "DATABASE_URL": database_url,
            "AGORA_TESTING": "0",
            "DEBUG": "0",
            "SECRET_KEY": BENCH_SECRET_KEY,
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SECURE_SSL_REDIRECT": "0",
            "SESSION_COOKIE_SECURE": "0",
            "CSRF_COOKIE_SECURE": "0",
            "SECURE_HSTS_SECONDS": "0",
            **extra_env,
        }
        if os.environ.get("REDIS_URL"):
            env["REDIS_URL"] = os.environ["REDIS_URL"]
        with uvicorn_process(
            env=env,
            log_path=tmp_path / "server.log",
            workers=workers,
            # Clients keep connections open across rounds; the default (5 s) would close
            # them under a loaded machine and make the next request fail.
            extra_args=("--timeout-keep-alive", "120", "--backlog", "1024"),
        ) as server:
            # Every worker has loaded the application before anything is measured.
            server.wait_idle()
            yield server

    return start
