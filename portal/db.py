"""Hand-written SQL on hot paths: prepared statements, and models without ``RawQuerySet``.

``hot_cursor()`` is a cursor whose statements PostgreSQL may prepare. The portal binds
parameters on the client (Django's default: any number of parameters, e.g. a bulk insert
of 50,000 rows, and no plan kept per connection), so PostgreSQL parses and plans every
statement again. The few statements run on every vote or API request go through a cursor
that sends parameters apart from the SQL instead; psycopg prepares such a statement once a
connection has run it ``DATABASE_PREPARE_THRESHOLD`` times. It is an ordinary Django cursor
otherwise (errors, query logging, ``execute_wrapper``).

``Model.objects.raw()`` inspects the cursor's column description and resolves the model's
field order and converters again for every query: on a request that runs one such query
that costs more than the query itself. ``RowReader`` resolves them once per model and
database vendor; the SQL selects ``reader.columns(alias)`` first, then any extra values.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Generic, TypeVar

from django.db import connection
from django.db.models import Model
from django.db.models.expressions import Col


@contextlib.contextmanager
def hot_cursor() -> Iterator[Any]:
    """A cursor for a hot statement (with ``%(name)s`` or ``%s`` parameters)."""
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            yield cursor
        return
    from django.db.backends.postgresql.base import ServerBindingCursor  # type: ignore[attr-defined]

    connection.close_if_health_check_failed()
    connection.ensure_connection()
    with connection.wrap_database_errors:
        raw = ServerBindingCursor(connection.connection)
        # The same wrapping as connection.cursor() (private, but stable across versions).
        cursor = connection._prepare_cursor(raw)  # type: ignore[attr-defined]
    with cursor:
        yield cursor


M = TypeVar("M", bound=Model)


class RowReader(Generic[M]):
    def __init__(self, model: type[M]) -> None:
        self.model = model
        self.fields = list(model._meta.concrete_fields)
        self.attnames = [f.attname for f in self.fields]
        self._converters: dict[str, list[tuple[int, list[Callable[..., Any]], Col]]] = {}

    def columns(self, table_alias: str) -> str:
        """The model's columns, qualified by ``table_alias``, in the order ``build`` reads."""
        qn = connection.ops.quote_name
        return ", ".join(f"{table_alias}.{qn(f.column)}" for f in self.fields)

    def _converters_for_vendor(self) -> list[tuple[int, list[Callable[..., Any]], Col]]:
        vendor = connection.vendor
        found = self._converters.get(vendor)
        if found is None:
            found = []
            table = self.model._meta.db_table
            for index, field in enumerate(self.fields):
                expression = Col(table, field)
                funcs = connection.ops.get_db_converters(expression)
                funcs += field.get_db_converters(connection)  # type: ignore[attr-defined]
                if funcs:
                    found.append((index, funcs, expression))
            self._converters[vendor] = found
        return found

    def build(self, row: Sequence[Any]) -> tuple[M, tuple[Any, ...]]:
        """The instance from the row's first columns, and the remaining values."""
        count = len(self.fields)
        values = list(row[:count])
        for index, funcs, expression in self._converters_for_vendor():
            value = values[index]
            for func in funcs:
                value = func(value, expression, connection)
            values[index] = value
        instance = self.model.from_db(connection.alias, self.attnames, values)
        return instance, tuple(row[count:])
