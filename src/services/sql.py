"""Small helpers for the few hot paths written in raw SQL (bulk inserts and upserts), portable
between SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

CHUNK = 2_000  # ids per IN (…) list, well under SQLite's and asyncpg's parameter limits


def chunks(items: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def int_list(ids: Iterable[int]) -> str:
    """``1, 2, 3`` for an ``IN (…)`` list; every id is forced through int(), so nothing is injected."""
    return ", ".join(str(int(i)) for i in ids) or "NULL"


def placeholder(conn: Any, n: int) -> str:
    """The ``n``-th (1-based) bind parameter in the connection's dialect."""
    return f"${n}" if conn.capabilities.dialect == "postgres" else "?"


def is_postgres(conn: Any) -> bool:
    return bool(conn.capabilities.dialect == "postgres")


async def column(query: Any) -> list[Any]:
    """The values of a one-column ``values_list(..., flat=True)`` query (tortoise types its rows as tuples)."""
    return list(await query)


def decimal_sum(conn: Any, column: str, places: int) -> Any:
    """An exact SUM of a decimal column, for ``annotate``: PostgreSQL sums ``numeric`` exactly, but SQLite
    stores decimals as text and SUM adds them as floats, so there the sum is taken in integer units of
    the last decimal place (read it back with :func:`decimal_value`)."""
    from tortoise.expressions import RawSQL
    from tortoise.functions import Sum

    if is_postgres(conn):
        return Sum(column)
    return RawSQL(f"SUM(CAST(ROUND({column} * {10 ** places}) AS INTEGER))")


def decimal_value(conn: Any, value: Any, places: int) -> Decimal:
    """The Decimal of a :func:`decimal_sum` result."""
    if value is None:
        return Decimal(0)
    if is_postgres(conn):
        return Decimal(str(value))
    return Decimal(int(value)).scaleb(-places)


async def insert_rows(conn: Any, model: Any, rows: Sequence[dict[str, Any]], *, per_statement: int = 500) -> None:
    """INSERT ``rows`` (column name → Python value, every row the same columns) into ``model``'s table with
    multi-row VALUES, each value converted as the model's field stores it: the ORM's bulk create builds an object
    and a parameter term per value, several times the database's own work for thousands of rows."""
    if not rows:
        return
    columns = list(rows[0])
    fields = model._meta.fields_map
    # Most values are stored as they are: only enums, JSON and decimals go through their field (foreign keys are
    # given by their ``<name>_id`` fields).
    plain = {"IntField", "BigIntField", "SmallIntField", "CharField", "TextField", "BooleanField", "DatetimeField"}
    convert = [None if type(fields[name]).__name__ in plain else fields[name] for name in columns]
    table = model._meta.db_table
    width = len(columns)
    for part in chunks(rows, per_statement):
        groups = ", ".join(
            "(" + ", ".join(placeholder(conn, k * width + c + 1) for c in range(width)) + ")" for k in range(len(part)))
        values = [value if field is None or value is None else field.to_db_value(value, model)
                  for row in part for field, value in zip(convert, row.values(), strict=True)]
        await conn.execute_query(f"INSERT INTO {table} ({', '.join(columns)}) VALUES {groups}", values)


async def update_ids(conn: Any, table: str, ids: Sequence[int], **values: Any) -> None:
    """``UPDATE table SET …`` the rows of ``ids`` (plain column values: enums as their stored strings)."""
    names = list(values)
    assignments = ", ".join(f"{name} = {placeholder(conn, n)}" for n, name in enumerate(names, 1))
    for part in chunks(ids):
        await conn.execute_query(f"UPDATE {table} SET {assignments} WHERE id IN ({int_list(part)})",
                                 [values[name] for name in names])


async def insert_returning_ids(conn: Any, model: Any, rows: Sequence[dict[str, Any]], *,
                               per_statement: int = 500) -> list[int]:
    """`insert_rows`, answering the new rows' ids in the order of ``rows``. ``RETURNING`` answers in no promised
    order (SQLite documents it as arbitrary), so each statement's ids are sorted: the ids of one multi-row INSERT
    are assigned in its VALUES order, on SQLite and PostgreSQL alike."""
    ids: list[int] = []
    if not rows:
        return ids
    columns = list(rows[0])
    fields = model._meta.fields_map
    plain = {"IntField", "BigIntField", "SmallIntField", "CharField", "TextField", "BooleanField", "DatetimeField"}
    convert = [None if type(fields[name]).__name__ in plain else fields[name] for name in columns]
    table = model._meta.db_table
    width = len(columns)
    for part in chunks(rows, per_statement):
        groups = ", ".join(
            "(" + ", ".join(placeholder(conn, k * width + c + 1) for c in range(width)) + ")" for k in range(len(part)))
        values = [value if field is None or value is None else field.to_db_value(value, model)
                  for row in part for field, value in zip(convert, row.values(), strict=True)]
        returned = await conn.execute_query_dict(  # execute_query answers no rows for an INSERT on asyncpg
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES {groups} RETURNING id", values)
        ids.extend(sorted(int(row["id"]) for row in returned))
    return ids


async def update_by_id(conn: Any, model: Any, rows: dict[int, dict[str, Any]], **same: Any) -> None:
    """UPDATE the rows of ``rows`` (id → column → value; the columns may differ between rows) in one statement
    per chunk: each column named by any row is set with ``CASE id WHEN … THEN …`` (the others keep theirs), and
    every column of ``same`` to one value."""
    if not rows:
        return
    fields = model._meta.fields_map
    table = model._meta.db_table
    for part in chunks(list(rows.items()), CHUNK // 4):
        params: list[Any] = []
        assignments = []
        columns = list(dict.fromkeys(name for _, values in part for name in values))
        for name in columns:
            field = fields[name]
            whens = []
            for pk, values in part:
                if name in values:
                    value = values[name]
                    params.append(None if value is None else field.to_db_value(value, model))
                    whens.append(f"WHEN {int(pk)} THEN {placeholder(conn, len(params))}")
            assignments.append(f"{name} = CASE id {' '.join(whens)} ELSE {name} END")
        for name, value in same.items():
            params.append(value)
            assignments.append(f"{name} = {placeholder(conn, len(params))}")
        await conn.execute_query(f"UPDATE {table} SET {', '.join(assignments)} "
                                 f"WHERE id IN ({int_list(pk for pk, _ in part)})", params)
