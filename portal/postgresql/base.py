"""Django's PostgreSQL backend, with a pool that checks only connections that sat idle.

With ``OPTIONS["pool"]`` and ``CONN_HEALTH_CHECKS`` Django's pool checks a connection (an
empty query: a round trip to PostgreSQL) every time a request takes one. Under load a
connection goes back and forth many times a second, and that check is a request's most
frequent round trip after its own queries. Here a connection is checked when it is taken
only if it was last taken more than ``IDLE_CHECK_SECONDS`` ago (or never): one that
served a request a moment ago is as alive as the connection a request already holds, which
is not checked either. A connection that broke in between fails its request like one
breaking mid-request, and the pool replaces it.

The time a connection was last taken bounds the time it has been back in the pool, so
no callback runs when it is returned (a ``reset`` callback would make the pool hand
every returned connection to its worker thread first).

Everything else is Django's backend (``ENGINE: "portal.postgresql"``).
"""

from __future__ import annotations

from collections.abc import Callable
from time import monotonic
from typing import Any, ClassVar

from django.db.backends.base.base import NO_DB_ALIAS
from django.db.backends.postgresql import base
from psycopg_pool import ConnectionPool

IDLE_CHECK_SECONDS = 1.0

# The attribute the check stamps on a connection when a request takes it.
_TAKEN_AT = "_agora_taken_at"


def check_if_idle(conn: Any) -> None:
    """Check callback: the pool's own check, for connections not taken for a while."""
    now = monotonic()
    taken_at = getattr(conn, _TAKEN_AT, None)
    setattr(conn, _TAKEN_AT, now)
    if taken_at is None or now - taken_at > IDLE_CHECK_SECONDS:
        ConnectionPool.check_connection(conn)


class DatabaseWrapper(base.DatabaseWrapper):
    # Django's, missing from its type stubs.
    _connection_pools: ClassVar[dict[str, Any]]
    _configure_connection: Callable[[Any], None]

    @property
    def pool(self) -> Any:
        options = self.settings_dict["OPTIONS"].get("pool")
        if (
            self.alias == NO_DB_ALIAS
            or not options
            or not self.settings_dict["CONN_HEALTH_CHECKS"]
            or self.settings_dict.get("CONN_MAX_AGE", 0) != 0
        ):
            return super().pool  # type: ignore[misc]  # no pool, no checks, or Django's configuration error
        if self.alias not in self._connection_pools:
            connect_kwargs = self.get_connection_params()
            connect_kwargs["autocommit"] = True  # as Django's pool: Django sets it later
            pool = ConnectionPool(
                kwargs=connect_kwargs,
                open=False,
                configure=self._configure_connection,
                check=check_if_idle,
                **({} if options is True else options),
            )
            self._connection_pools.setdefault(self.alias, pool)
        return self._connection_pools[self.alias]
