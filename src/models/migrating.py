"""Migrating a database safely: one process at a time, saying what was applied, knowing what is pending.

* On PostgreSQL the whole migration runs under a session advisory lock keyed by the schema the URL works in:
  concurrent ``outboundql migrate`` runs (every API host of a deploy) wait for the first one and then find
  nothing left to do, instead of crashing on the migrations table. The lock dies with its connection.
* The tables a migration created or changed are ``ANALYZE``d (PostgreSQL), so the planner does not run on
  empty statistics until autovacuum gets there.
* `pending_migrations` is what the code has that the database lacks (``migrate --check``, ``serve``, ``/readyz``).
"""

from __future__ import annotations

import contextlib
import pkgutil
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tortoise.backends.base.client import BaseDBAsyncClient

#: First key of the ``(int4, int4)`` advisory lock a migration holds; the second is a hash of the schema.
LOCK_CLASS = 0x6F716D  # "oqm"
MIGRATIONS_TABLE = "tortoise_migrations"
APP_LABEL = "models"


@dataclass(frozen=True)
class MigrationResult:
    """What one `migrate` did: the migrations it applied (in order) and the tables it analysed afterwards."""

    applied: list[str] = field(default_factory=list)
    analyzed: list[str] = field(default_factory=list)


def code_migrations() -> list[str]:
    """Names of the migrations the installed code ships, in order (``0001_initial``, …)."""
    from outboundql.models import migrations

    return sorted(m.name for m in pkgutil.iter_modules(migrations.__path__) if m.name[:4].isdigit())


async def applied_migrations(client: BaseDBAsyncClient) -> set[str]:
    """Names of the migrations recorded as applied in the database ``client`` talks to (none before the first)."""
    if not await _table_exists(client, MIGRATIONS_TABLE):
        return set()
    _, rows = await client.execute_query(f'SELECT "name" FROM "{MIGRATIONS_TABLE}" WHERE "app" = \'{APP_LABEL}\'')
    return {row["name"] for row in rows}


async def missing_migrations(client: BaseDBAsyncClient) -> list[str]:
    """The code's migrations the database ``client`` talks to lacks, in order."""
    applied = await applied_migrations(client)
    return [name for name in code_migrations() if name not in applied]


async def pending_migrations(database_url: str) -> list[str]:
    """The migrations the database at ``database_url`` lacks (a connection of its own, closed after)."""
    async with _orm(database_url) as client:
        return await missing_migrations(client)


async def migrate(database_url: str, *, applying: Callable[[str], object] | None = None) -> MigrationResult:
    """Apply what is pending on ``database_url``, one process at a time on PostgreSQL; ``applying(name)`` is
    called as each migration starts. Connections are closed after."""
    from tortoise.migrations.executor import MigrationExecutor

    from outboundql.models.config import tortoise_config

    applied: list[str] = []

    def progress(event: str, app_label: str, name: str) -> None:
        if event == "apply_start" and applying is not None:
            applying(name)
        if event == "apply_done":
            applied.append(name)

    async with _orm(database_url) as client, _exclusive(client):
        before = await _table_shapes(client)
        executor = MigrationExecutor(client, tortoise_config(database_url)["apps"])
        await executor.migrate(progress=progress)
        analyzed: list[str] = []
        if applied and client.capabilities.dialect == "postgres":
            after = await _table_shapes(client)
            analyzed = sorted(t for t, shape in after.items() if before.get(t) != shape and t != MIGRATIONS_TABLE)
            for table in analyzed:
                await client.execute_script(f'ANALYZE "{table}"')
        return MigrationResult(applied, analyzed)


@contextlib.asynccontextmanager
async def _orm(database_url: str) -> AsyncIterator[BaseDBAsyncClient]:
    from tortoise.context import TortoiseContext

    from outboundql.models.config import tortoise_config

    async with TortoiseContext() as ctx:
        await ctx.init(config=tortoise_config(database_url))
        try:
            yield ctx.db("default")
        finally:
            await ctx.close_connections()


@contextlib.asynccontextmanager
async def _exclusive(client: BaseDBAsyncClient) -> AsyncIterator[None]:
    """Hold the migration lock of the client's schema (PostgreSQL; SQLite serialises writers by itself)."""
    if client.capabilities.dialect != "postgres":
        yield
        return
    async with client.acquire_connection() as conn:  # a pooled connection, held for the whole migration
        await conn.execute("SELECT pg_advisory_lock($1, hashtext(current_schema()))", LOCK_CLASS)
        try:
            yield
        finally:
            await conn.execute("SELECT pg_advisory_unlock($1, hashtext(current_schema()))", LOCK_CLASS)


async def _table_exists(client: BaseDBAsyncClient, table: str) -> bool:
    if client.capabilities.dialect == "postgres":
        _, rows = await client.execute_query("SELECT to_regclass($1) IS NOT NULL AS present", [f'"{table}"'])
    else:
        _, rows = await client.execute_query(
            "SELECT COUNT(*) > 0 AS present FROM sqlite_master WHERE type = 'table' AND name = ?", [table])
    return bool(rows[0]["present"])


async def _table_shapes(client: BaseDBAsyncClient) -> dict[str, Any]:
    """Each table of the schema with its columns and indexes (PostgreSQL): which tables a migration touched."""
    if client.capabilities.dialect != "postgres":
        return {}
    _, rows = await client.execute_query(
        "SELECT c.relname AS name, "
        "  (SELECT string_agg(a.attname || ':' || format_type(a.atttypid, a.atttypmod), ',' ORDER BY a.attnum) "
        "   FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped) AS columns, "
        "  (SELECT string_agg(pg_get_indexdef(i.indexrelid), ';' ORDER BY i.indexrelid) "
        "   FROM pg_index i WHERE i.indrelid = c.oid) AS indexes "
        "FROM pg_class c WHERE c.relkind IN ('r', 'p') AND c.relnamespace = current_schema()::regnamespace")
    return {row["name"]: (row["columns"], row["indexes"]) for row in rows}
