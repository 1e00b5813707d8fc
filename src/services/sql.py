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
