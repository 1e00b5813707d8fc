"""Where tests may write on PostgreSQL: inside the database the test URL names, nowhere else.

Each test that needs PostgreSQL gets a schema of its own in that database, ``oql_t_<run>_<id>``
(``<run>``: 8 hex digits naming this test run), and drops it when it ends. The schema travels in the
database URL as ``?schema=<name>&application_name=<name>``: tortoise's asyncpg client sets
``search_path`` to the schema, so the ORM, ``outboundql migrate``, ``serve`` and ``worker`` processes
given that URL all work inside it; ``application_name`` lets the drop end the schema's own
leftover connections (and only those) first.

A run that is interrupted may leave schemas behind. Every run holds a session-level advisory lock
``(LOCK_CLASS, <run>)`` on the database for as long as it lives (on a connection of a thread of
its own; PostgreSQL releases it when the process dies, however it dies). The first test that needs
PostgreSQL drops the leftover schemas of every run whose lock it can take, i.e. of runs that are
gone: two runs sharing the database never drop each other's schemas. Only names of the form
``oql_t_<8 hex>_<hex>`` are ever dropped.
"""

from __future__ import annotations

import asyncio
import re
import secrets
import threading
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import asyncpg

SCHEMA_PREFIX = "oql_t_"
SCHEMA_PATTERN = re.compile(r"^oql_t_(?P<run>[0-9a-f]{8})_[0-9a-f]+$")
LOCK_CLASS = 0x6F716C  # "oql": first key of the (int4, int4) advisory locks naming test runs
RUN = secrets.token_hex(4)  # this run

_TORTOISE_ONLY = {"schema", "minsize", "maxsize"}  # URL parameters asyncpg must not see


def run_key(run: str) -> int:
    """The second advisory lock key of ``run`` (8 hex digits → a signed int4)."""
    return int(run, 16) - 2**31


def new_schema() -> str:
    return f"{SCHEMA_PREFIX}{RUN}_{secrets.token_hex(6)}"


def with_schema(url: str, schema: str) -> str:
    """``url`` (a database the tests were given) with ``schema`` as the search path of its users."""
    parts = urlsplit(without_schema(url))
    query = [*parse_qsl(parts.query), ("schema", schema), ("application_name", schema)]
    return parts._replace(query=urlencode(query)).geturl()


def schema_of(url: str) -> str | None:
    return dict(parse_qsl(urlsplit(url).query)).get("schema")


def without_schema(url: str) -> str:
    """``url`` with no schema of ours: the database the tests were given."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k not in ("schema", "application_name")]
    return parts._replace(query=urlencode(query)).geturl()


async def connect(url: str) -> asyncpg.Connection:
    """A plain asyncpg connection to ``url``'s database, with ``search_path`` its schema if it has one."""
    parts = urlsplit(url)
    params = dict(parse_qsl(parts.query))
    schema = params.get("schema")
    query = urlencode({k: v for k, v in params.items() if k not in _TORTOISE_ONLY})
    dsn = parts._replace(scheme="postgresql", query=query).geturl()
    server_settings = {"search_path": schema} if schema else None
    return await asyncpg.connect(dsn, server_settings=server_settings)


async def drop_schema(conn: asyncpg.Connection, schema: str) -> None:
    """End the connections still working in ``schema`` (they name it), then drop it with its tables."""
    assert SCHEMA_PATTERN.match(schema), schema
    await conn.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE application_name = $1 AND datname = current_database() AND pid <> pg_backend_pid()", schema)
    await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


async def suite_schemas(conn: asyncpg.Connection) -> list[str]:
    rows = await conn.fetch(r"SELECT nspname FROM pg_namespace WHERE nspname LIKE 'oql\_t\_%' ORDER BY nspname")
    return [r["nspname"] for r in rows if SCHEMA_PATTERN.match(r["nspname"])]


async def drop_stale_schemas(conn: asyncpg.Connection, *, own_run: str = RUN) -> list[str]:
    """Drop the schemas of runs that are gone (their lock is free); return what was dropped."""
    by_run: dict[str, list[str]] = {}
    for schema in await suite_schemas(conn):
        match = SCHEMA_PATTERN.match(schema)
        assert match is not None
        by_run.setdefault(match["run"], []).append(schema)
    dropped: list[str] = []
    for run, schemas in sorted(by_run.items()):
        if run == own_run or not await conn.fetchval("SELECT pg_try_advisory_lock($1, $2)", LOCK_CLASS, run_key(run)):
            continue  # ours, or a run that is still going
        try:
            for schema in schemas:
                await drop_schema(conn, schema)
                dropped.append(schema)
        finally:
            await conn.execute("SELECT pg_advisory_unlock($1, $2)", LOCK_CLASS, run_key(run))
    return dropped


class _RunLock:
    """This run's advisory lock on one database, held from the first schema to the end of the run."""

    def __init__(self, url: str) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="oql-test-run-lock", daemon=True)
        self.thread.start()
        self.conn: asyncpg.Connection = self._call(self._lock(url))

    def _call(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=120)

    async def _lock(self, url: str) -> asyncpg.Connection:
        conn = await connect(without_schema(url))
        await conn.execute("SELECT pg_advisory_lock($1, $2)", LOCK_CLASS, run_key(RUN))
        await drop_stale_schemas(conn)
        return conn

    async def _release(self) -> None:
        try:
            for schema in await suite_schemas(self.conn):  # a test's own drop did not run (interrupted)
                if schema.startswith(f"{SCHEMA_PREFIX}{RUN}_"):
                    await drop_schema(self.conn, schema)
        finally:
            await self.conn.close()

    def close(self) -> None:
        try:
            self._call(self._release())
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(timeout=30)
            self.loop.close()


_locks: dict[str, _RunLock] = {}
_locks_guard = threading.Lock()


def hold_run_lock(url: str) -> None:
    """Take this run's lock on ``url``'s database (once), dropping what gone runs left there."""
    key = without_schema(url)
    with _locks_guard:
        if key not in _locks:
            _locks[key] = _RunLock(url)


def release_run_locks() -> None:
    """At the end of the run: drop any schema of this run still there, and let the lock go."""
    with _locks_guard:
        while _locks:
            _locks.popitem()[1].close()


async def create_schema_url(url: str) -> str:
    """A new, empty schema in ``url``'s database; the URL that works inside it."""
    await asyncio.to_thread(hold_run_lock, url)
    schema = new_schema()
    conn = await connect(without_schema(url))
    try:
        await conn.execute(f'CREATE SCHEMA "{schema}"')
    finally:
        await conn.close()
    return with_schema(url, schema)


async def drop_schema_url(url: str) -> None:
    """Drop the schema ``create_schema_url`` made for ``url``."""
    schema = schema_of(url)
    assert schema is not None, url
    conn = await connect(without_schema(url))
    try:
        await drop_schema(conn, schema)
    finally:
        await conn.close()


class SchemaPool:
    """Test schemas kept between tests and emptied instead of dropped and built again.

    Building the tables of a new schema and dropping them costs ~0.3 s per test on PostgreSQL; emptying the
    tables a test wrote to costs a few milliseconds. A schema goes back to the pool only when it is as fresh
    as a new one would be: no connection of anyone else still names it, no table, index, sequence,
    trigger or function was added or removed, and every table it wrote to (rows, or a sequence moved) was
    truncated with its identities restarted. Otherwise it is dropped as before. Whatever is left in the
    pool at the end of the run goes with the run's schemas (`release_run_locks`).
    """

    def __init__(self) -> None:
        self._free: dict[str, list[str]] = {}  # database url → schema urls ready for a test
        self._shape: dict[str, str] = {}  # schema url → the shape of its catalog when it was built

    def take(self, url: str) -> str | None:
        free = self._free.get(url)
        return free.pop() if free else None

    async def remember_shape(self, schema_url: str) -> None:
        conn = await connect(schema_url)
        try:
            self._shape[schema_url] = await _catalog_shape(conn)
        finally:
            await conn.close()

    async def give_back(self, url: str, schema_url: str) -> None:
        """Empty ``schema_url`` and keep it for the next test, or drop it when it cannot be trusted as new."""
        schema = schema_of(schema_url)
        assert schema is not None and SCHEMA_PATTERN.match(schema), schema_url
        conn = await connect(schema_url)
        try:
            if await _reusable(conn, schema, self._shape.get(schema_url)):
                await _empty(conn, schema)
                self._free.setdefault(url, []).append(schema_url)
                return
        finally:
            await conn.close()
        self._shape.pop(schema_url, None)
        await drop_schema_url(schema_url)


async def _catalog_shape(conn: asyncpg.Connection) -> str:
    rows = await conn.fetch(
        "SELECT 'c:' || relkind::text || ':' || relname::text AS o FROM pg_class "
        "WHERE relnamespace = current_schema()::regnamespace "
        "UNION ALL SELECT 't:' || t.tgname::text FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
        "WHERE c.relnamespace = current_schema()::regnamespace "
        "UNION ALL SELECT 'f:' || proname::text FROM pg_proc WHERE pronamespace = current_schema()::regnamespace "
        "ORDER BY 1")
    return "\n".join(r["o"] for r in rows)


async def _reusable(conn: asyncpg.Connection, schema: str, shape: str | None) -> bool:
    others = await conn.fetchval(
        "SELECT count(*) FROM pg_stat_activity WHERE (application_name = $1 OR application_name LIKE $1 || '/%') "
        "AND datname = current_database() AND pid <> pg_backend_pid()", schema)
    return others == 0 and shape is not None and await _catalog_shape(conn) == shape


async def _empty(conn: asyncpg.Connection, schema: str) -> None:
    tables = [r["relname"] for r in await conn.fetch(
        "SELECT relname FROM pg_class WHERE relnamespace = current_schema()::regnamespace AND relkind = 'r'")]
    if not tables:
        return
    with_rows = " UNION ALL ".join(
        f"SELECT '{t}'::text AS t WHERE EXISTS (SELECT 1 FROM \"{t}\")" for t in tables)
    moved_sequences = (
        "SELECT t.relname AS t FROM pg_sequences s "
        "JOIN pg_class sc ON sc.relname = s.sequencename AND sc.relnamespace = current_schema()::regnamespace "
        "JOIN pg_depend d ON d.objid = sc.oid AND d.deptype IN ('a', 'i') "
        "JOIN pg_class t ON t.oid = d.refobjid "
        "WHERE s.schemaname = current_schema() AND s.last_value IS NOT NULL")
    written = sorted({r["t"] for r in await conn.fetch(f"{with_rows} UNION {moved_sequences}")})
    if written:
        await conn.execute("TRUNCATE " + ", ".join(f'"{t}"' for t in written) + " RESTART IDENTITY CASCADE")


schema_pool = SchemaPool()
