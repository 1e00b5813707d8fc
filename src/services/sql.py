"""Small helpers for the few hot paths written in raw SQL (bulk inserts and upserts), portable
between SQLite and PostgreSQL."""

from __future__ import annotations

import enum
import itertools
from collections.abc import Callable, Iterable, Sequence
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


def _groups(conn: Any, rows: int, width: int) -> str:
    """``(?, ?), (?, ?)`` (``($1, $2), ($3, $4)`` on PostgreSQL): the VALUES of ``rows`` rows of ``width``."""
    if not is_postgres(conn):
        return ", ".join(["(" + ", ".join("?" * width) + ")"] * rows)
    return ", ".join("(" + ", ".join(f"${k * width + c + 1}" for c in range(width)) + ")" for k in range(rows))


async def select_in(conn: Any, model: Any, column: str, values: Sequence[Any], **equal: Any) -> list[Any]:
    """The rows of ``model`` (instances, as the ORM builds them) whose ``column`` is one of ``values`` and whose
    ``equal`` columns have those values: a query per `CHUNK` values, each value a bind parameter. The ORM's
    ``filter(column__in=…)`` builds a parameter term per value, which costs more than the query for thousands."""
    return [model._init_from_db(**row) for row in await _select_rows(conn, model, "*", column, values, equal)]


async def select_values(conn: Any, model: Any, columns: Sequence[str], column: str, values: Sequence[Any],
                        **equal: Any) -> list[dict[str, Any]]:
    """`select_in` answering only ``columns`` of each row, as plain dicts (column name → Python value, converted
    as the model's field reads it): for the hot paths that read thousands of rows and need a few of their
    values, not model instances."""
    convert = {name: field.to_python_value for name in columns
               if type(field := model._meta.fields_map[name]).__name__ not in _READ_AS_IS}
    rows = await _select_rows(conn, model, ", ".join(columns), column, values, equal)
    if convert:
        for row in rows:
            for name, to_python in convert.items():
                if row[name] is not None:
                    row[name] = to_python(row[name])
    return rows


async def _select_rows(conn: Any, model: Any, selected: str, column: str, values: Sequence[Any],
                       equal: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    table = model._meta.db_table
    names = list(equal)
    where = " AND ".join(f"{name} = {placeholder(conn, n)}" for n, name in enumerate(names, 1))
    for part in chunks(values):
        listed = ", ".join(placeholder(conn, len(names) + k + 1) for k in range(len(part)))
        found.extend(await conn.execute_query_dict(
            f"SELECT {selected} FROM {table} WHERE {where + ' AND ' if where else ''}{column} IN ({listed})",
            [*(equal[name] for name in names), *part]))
    return found


async def insert_rows(conn: Any, model: Any, rows: Sequence[dict[str, Any]], *, per_statement: int = 500) -> None:
    """INSERT ``rows`` (column name → Python value, every row the same columns) into ``model``'s table with
    multi-row VALUES, each value converted as the model's field stores it: the ORM's bulk create builds an object
    and a parameter term per value, several times the database's own work for thousands of rows."""
    if rows:
        await insert_tuples(conn, model, list(rows[0]), [tuple(row.values()) for row in rows],
                            per_statement=per_statement)


async def insert_tuples(conn: Any, model: Any, columns: Sequence[str], rows: Sequence[Sequence[Any]], *,
                        per_statement: int = 500, returning_ids: bool = False) -> list[int]:
    """`insert_rows` of rows given as value tuples in the order of ``columns``. With ``returning_ids``, the new
    rows' ids in the order of ``rows``: ``RETURNING`` answers in no promised order (SQLite documents it as
    arbitrary), so each statement's ids are sorted, as the ids of one multi-row INSERT are assigned in its VALUES
    order, on SQLite and PostgreSQL alike."""
    ids: list[int] = []
    converting = [(k, to_db) for k, name in enumerate(columns) if (to_db := _converter(model, name)) is not None]
    head = f"INSERT INTO {model._meta.db_table} ({', '.join(columns)}) VALUES "
    width = len(columns)
    for part in chunks(rows, per_statement):
        if converting:  # only the columns that need it, in a copy of each row
            part = [_converted(row, converting) for row in part]
        values = list(itertools.chain.from_iterable(part))
        if len(values) != width * len(part):
            raise ValueError(f"Every row must hold {width} values, one per column.")
        query = head + _groups(conn, len(part), width)
        if returning_ids:  # execute_query answers no rows for an INSERT on asyncpg
            ids.extend(sorted(int(row["id"]) for row in await conn.execute_query_dict(query + " RETURNING id",
                                                                                     values)))
        else:
            await conn.execute_query(query, values)
    return ids


def _converted(row: Sequence[Any], converting: list[tuple[int, Callable[[Any], Any]]]) -> list[Any]:
    values = list(row)
    for k, to_db in converting:
        if values[k] is not None:
            values[k] = to_db(values[k])
    return values


#: Fields whose values read as they are (SQLite answers a boolean as 0 or 1, a JSON field as text).
_READ_AS_IS = frozenset({"IntField", "BigIntField", "SmallIntField", "CharField", "TextField"})
#: Fields whose values are stored as they are (foreign keys are given by their ``<name>_id`` fields).
_PLAIN_FIELDS = frozenset({"IntField", "BigIntField", "SmallIntField", "CharField", "TextField", "BooleanField",
                           "DatetimeField"})


def _converter(model: Any, name: str) -> Callable[[Any], Any] | None:
    """How a value of ``model``'s field ``name`` is stored: None when as it is; otherwise the field's own
    conversion, remembered for enum members and empty JSON (the same few values in thousands of rows)."""
    field = model._meta.fields_map[name]
    if type(field).__name__ in _PLAIN_FIELDS:
        return None
    known: dict[Any, Any] = {}

    def to_db(value: Any) -> Any:
        key = value if isinstance(value, enum.Enum) else (type(value), "empty") if value in ([], {}) else None
        if key is None:
            return field.to_db_value(value, model)
        if key not in known:
            known[key] = field.to_db_value(value, model)
        return known[key]

    return to_db


async def update_ids(conn: Any, table: str, ids: Sequence[int], **values: Any) -> None:
    """``UPDATE table SET …`` the rows of ``ids`` (plain column values: enums as their stored strings)."""
    names = list(values)
    assignments = ", ".join(f"{name} = {placeholder(conn, n)}" for n, name in enumerate(names, 1))
    for part in chunks(ids):
        await conn.execute_query(f"UPDATE {table} SET {assignments} WHERE id IN ({int_list(part)})",
                                 [values[name] for name in names])


async def insert_returning_ids(conn: Any, model: Any, rows: Sequence[dict[str, Any]], *,
                               per_statement: int = 500) -> list[int]:
    """`insert_rows`, answering the new rows' ids in the order of ``rows`` (see `insert_tuples`)."""
    if not rows:
        return []
    return await insert_tuples(conn, model, list(rows[0]), [tuple(row.values()) for row in rows],
                               per_statement=per_statement, returning_ids=True)


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
