"""The PostgreSQL backend's pool checks a connection only when it sat idle (portal/postgresql).

Each test builds its own pooled connection to the test database (the suite itself runs
without a pool) and spies on the pool's real check, which still runs.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from psycopg_pool import ConnectionPool

from portal.postgresql import base as pooled

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        "postgresql" not in settings.DATABASES["default"]["ENGINE"],
        reason="the pool is PostgreSQL's",
    ),
]


@pytest.fixture
def checks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The backend pid of every connection the pool's own check ran on."""
    seen: list[int] = []
    real = ConnectionPool.check_connection

    def spy(conn: Any) -> None:
        seen.append(conn.info.backend_pid)
        real(conn)

    monkeypatch.setattr(ConnectionPool, "check_connection", staticmethod(spy))
    return seen


@pytest.fixture
def wrapper() -> Iterator[pooled.DatabaseWrapper]:
    settings_dict = copy.deepcopy(connection.settings_dict)
    settings_dict.update(CONN_MAX_AGE=0, CONN_HEALTH_CHECKS=True)
    settings_dict["OPTIONS"] = {"pool": {"min_size": 1, "max_size": 1, "timeout": 5}}
    db = pooled.DatabaseWrapper(settings_dict, alias="pool-test")
    try:
        yield db
    finally:
        db.close()
        db.close_pool()


def _pid(db: pooled.DatabaseWrapper) -> int:
    """Take a connection from the pool through Django, ask for its pid, hand it back."""
    db.ensure_connection()
    with db.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = int(cursor.fetchone()[0])
    db.close()  # back to the pool
    return pid


def test_a_connection_just_handed_back_is_not_checked_again(
    wrapper: pooled.DatabaseWrapper, checks: list[int]
) -> None:
    assert isinstance(wrapper.pool, ConnectionPool)
    first = _pid(wrapper)
    assert checks == [first]  # never used before: checked
    for _ in range(5):
        assert _pid(wrapper) == first  # the same connection (max_size 1), not checked
    assert checks == [first]


def test_a_connection_idle_for_longer_is_checked(
    wrapper: pooled.DatabaseWrapper, checks: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pooled, "IDLE_CHECK_SECONDS", 0.05)
    pid = _pid(wrapper)
    time.sleep(0.1)
    assert _pid(wrapper) == pid
    assert checks == [pid, pid]


def test_a_connection_that_died_while_idle_is_replaced(
    wrapper: pooled.DatabaseWrapper, checks: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pooled, "IDLE_CHECK_SECONDS", 0.05)
    dead = _pid(wrapper)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [dead])
    time.sleep(0.1)
    alive = _pid(wrapper)  # the check failed, the pool connected again
    assert alive != dead
    assert checks[:2] == [dead, dead] and checks[-1] == alive


def test_without_health_checks_it_is_djangos_pool(checks: list[int]) -> None:
    settings_dict = copy.deepcopy(connection.settings_dict)
    settings_dict.update(CONN_MAX_AGE=0, CONN_HEALTH_CHECKS=False)
    settings_dict["OPTIONS"] = {"pool": {"min_size": 1, "max_size": 1, "timeout": 5}}
    db = pooled.DatabaseWrapper(settings_dict, alias="pool-test-unchecked")
    try:
        _pid(db)
        _pid(db)
        assert checks == []
    finally:
        db.close()
        db.close_pool()
