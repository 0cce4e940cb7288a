"""Set-based statements for the few places that touch thousands of rows at once (epoch close).

On PostgreSQL one ``INSERT … SELECT … FROM unnest(array, …)`` statement carries every row
as one array per column: no model instances, no 10,000-row statement for Django to compile
and psycopg to split. Numbers travel as one comma-joined text per column
(``string_to_array(…)::numeric[]``), far cheaper to send than a list adapted element by
element. Elsewhere (SQLite in quick loops) the ORM's ``bulk_create`` and ``__in`` do the job.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.db import connection, models


def _pg_array(values: list[Any], db_type: str) -> tuple[str, Any]:
    if all(isinstance(v, (int, Decimal)) and not isinstance(v, bool) for v in values):
        return f"string_to_array(%s, ',')::{db_type}[]", ",".join(map(str, values))
    return f"%s::{db_type}[]", values


def rows_insert(
    *,
    model: type[models.Model],
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    ignore_conflicts: bool = False,
) -> None:
    """Insert ``rows`` (tuples in ``columns`` order, attnames such as ``account_id``)."""
    if not rows:
        return
    meta = model._meta
    fields = [next(f for f in meta.concrete_fields if f.attname == name) for name in columns]
    if connection.vendor != "postgresql":
        model._default_manager.bulk_create(
            [model(**dict(zip(columns, row, strict=True))) for row in rows],
            batch_size=2000,
            ignore_conflicts=ignore_conflicts,
        )
        return
    quote = connection.ops.quote_name
    columns_values = [list(column) for column in zip(*rows, strict=True)]
    constant = [
        not isinstance(values[0], (int, Decimal)) and all(v == values[0] for v in values)
        for values in columns_values
    ]
    if all(constant):
        constant = [False] * len(constant)  # at least one unnest() sets the row count
    parts: list[str] = []
    params: list[Any] = []
    for field, values, same in zip(fields, columns_values, constant, strict=True):
        if same:
            parts.append(f"%s::{field.db_type(connection)}")  # one value for every row
            params.append(values[0])
            continue
        expression, param = _pg_array(values, str(field.db_type(connection)))
        parts.append(f"unnest({expression})")
        params.append(param)
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "
        f"SELECT {', '.join(parts)}"
    )
    if ignore_conflicts:
        sql += " ON CONFLICT DO NOTHING"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def id_in(column: str, ids: Sequence[int]) -> tuple[str, list[Any]]:
    """A ``column IN (ids)`` condition for raw SQL: one array parameter on PostgreSQL."""
    if connection.vendor == "postgresql":
        return f"{column} = ANY(string_to_array(%s, ',')::bigint[])", [
            ",".join(str(int(i)) for i in ids)
        ]
    if not ids:
        return "1 = 0", []
    return f"{column} IN ({', '.join(['%s'] * len(ids))})", [int(i) for i in ids]
