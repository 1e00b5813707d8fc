"""Sending caps counted in the database, so they hold across any number of workers and processes.

A counter is a row per (project, key, UTC day). Taking a slot is one statement per counter, an upsert that only
counts while under the cap and answers the new count::

    INSERT INTO send_quota (project_id, counter, utc_day, taken) VALUES (…, 1)
    ON CONFLICT (project_id, counter, utc_day) DO UPDATE SET taken = send_quota.taken + 1
    WHERE send_quota.taken < cap RETURNING taken

No row back means the counter is full. All the counters of one take run in one transaction, and a full one rolls
the others back, so a mail either takes a slot of each of its counters or none. The row lock the upsert takes
(PostgreSQL) or the write lock (SQLite) makes two workers wait for each other on the same counter, never both
count its last slot. A full counter frees up at the next UTC midnight.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from tortoise.connection import connections
from tortoise.transactions import in_transaction

from outboundql.services import runtime, sql


class _Full(Exception):
    """A counter is at its cap: rolls back the slots already taken in this take."""


def day_of(moment: datetime) -> date:
    """The UTC day ``moment`` falls on."""
    return moment.astimezone(UTC).date() if moment.tzinfo else moment.date()


def next_midnight(moment: datetime) -> datetime:
    """The UTC midnight after ``moment``: when the day's counters start again from zero."""
    return datetime.combine(day_of(moment) + timedelta(days=1), time(0), tzinfo=UTC)


class DatabaseQuota:
    """`outboundql.channels.Quota` of one project on the day of ``now`` (the runtime clock's when not given)."""

    def __init__(self, project_id: int, now: datetime | None = None) -> None:
        self.project_id = project_id
        self.now = now if now is not None else runtime.now()

    async def take(self, limits: Mapping[str, int]) -> datetime | None:
        """One slot of every counter (key → daily cap), all or none; None when taken, else the next UTC midnight
        (when the full counter frees up). A cap under 1 is always full."""
        if not limits:
            return None
        if any(cap < 1 for cap in limits.values()):
            return next_midnight(self.now)
        day = day_of(self.now).isoformat()
        try:
            async with in_transaction("default") as conn:
                # One order for every taker, so two takes of the same counters never wait on each other crosswise.
                for key in sorted(limits):
                    if not await _take_one(conn, self.project_id, key[:320], day, int(limits[key])):
                        raise _Full(key)
        except _Full:
            return next_midnight(self.now)
        return None

    async def give_back(self, limits: Mapping[str, int]) -> None:
        """One slot of every counter of ``limits`` back (what `take` took for a mail that surely did not go out);
        a counter never goes under zero."""
        conn = connections.get("default")
        p = [sql.placeholder(conn, n) for n in range(1, 4)]
        for key in sorted(limits):  # the order `take` locks them in
            await conn.execute_query(
                f"UPDATE send_quota SET taken = taken - 1 WHERE project_id = {p[0]} AND counter = {p[1]} "
                f"AND utc_day = {p[2]} AND taken > 0", [self.project_id, key[:320], day_of(self.now).isoformat()])

    async def counts(self, keys: list[str]) -> dict[str, int]:
        """Today's count of each key (0 when nothing was sent)."""
        return await counts(self.project_id, day_of(self.now), keys)


async def _take_one(conn: Any, project_id: int, key: str, day: str, cap: int) -> bool:
    p = [sql.placeholder(conn, n) for n in range(1, 5)]
    rows = await conn.execute_query_dict(
        f"INSERT INTO send_quota (project_id, counter, utc_day, taken) VALUES ({p[0]}, {p[1]}, {p[2]}, 1) "
        f"ON CONFLICT (project_id, counter, utc_day) DO UPDATE SET taken = send_quota.taken + 1 "
        f"WHERE send_quota.taken < {p[3]} RETURNING taken",
        [project_id, key, day, cap],
    )
    return bool(rows)


async def counts(project_id: int, day: date, keys: list[str]) -> dict[str, int]:
    """The counts of ``keys`` in the project on ``day`` (UTC), 0 for a key with no row."""
    conn = connections.get("default")
    found: dict[str, int] = dict.fromkeys(keys, 0)
    for part in sql.chunks(sorted(set(keys))):
        marks = ", ".join(sql.placeholder(conn, n) for n in range(3, 3 + len(part)))
        for row in await conn.execute_query_dict(
            f"SELECT counter, taken FROM send_quota WHERE project_id = {sql.placeholder(conn, 1)} "
            f"AND utc_day = {sql.placeholder(conn, 2)} AND counter IN ({marks})",
            [project_id, day.isoformat(), *part],
        ):
            found[str(row["counter"])] = int(row["taken"])
    return found
