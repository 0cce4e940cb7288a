"""Model instances from hand-written SQL on hot paths, without ``RawQuerySet``'s set-up.

``Model.objects.raw()`` inspects the cursor's column description and resolves the model's
field order and converters again for every query: on a request that runs one such query
that costs more than the query itself. ``RowReader`` resolves them once per model and
database vendor; the SQL selects ``reader.columns(alias)`` first, then any extra values.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from django.db import connection
from django.db.models import Model
from django.db.models.expressions import Col

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
