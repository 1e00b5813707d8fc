"""Tests stay inside the PostgreSQL database and the Redis DB their URLs name (`tests.isolation`).

* A test database is a schema of its own in the named database: no database is created or dropped.
* ``outboundql migrate`` given a test URL builds the tables inside that schema, nowhere else.
* The schemas an interrupted run left are dropped by the next run; a live run's are not, nor any
  schema whose name is not the suite's.
* A schema a test gives back to the pool (the ``db`` fixture's) is as new for the next test: no rows, identities
  restarted; one whose catalog changed or that another connection still uses is dropped instead.
* ``private_redis_url`` is the Redis DB the URL names.
"""

from __future__ import annotations

import asyncio
import secrets
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from outboundql import models
from tests import isolation
from tests.conftest import database
from tests.integration.conftest import child_env, pg_fetch, run_cli

pytestmark = pytest.mark.integration

DATABASES = "SELECT datname FROM pg_database ORDER BY datname"


async def _names(url: str, sql: str) -> list[str]:
    return [row[0] for row in await pg_fetch(url, sql)]


async def _schemas(url: str) -> set[str]:
    return set(await _names(url, "SELECT nspname FROM pg_namespace"))


async def _schemas_but_other_runs(url: str) -> set[str]:
    """The database's schemas, leaving out those of test runs going on beside this one."""
    ours = f"{isolation.SCHEMA_PREFIX}{isolation.RUN}_"
    return {s for s in await _schemas(url) if s.startswith(ours) or not isolation.SCHEMA_PATTERN.match(s)}


async def test_a_test_database_is_a_schema_inside_the_named_database(pg_url: str) -> None:
    databases = await _names(pg_url, DATABASES)
    before = await _schemas_but_other_runs(pg_url)

    async with database(pg_url) as ctx:
        conn = ctx.connections.get("default")
        _, rows = await conn.execute_query("SELECT current_database() AS db, current_schema() AS schema")
        await models.User.create(email="inside@example.com", name="Inside")
        assert await _names(pg_url, DATABASES) == databases, "a database was created"
        schema = rows[0]["schema"]
        assert rows[0]["db"] == urlsplit(pg_url).path.lstrip("/") and isolation.SCHEMA_PATTERN.match(schema), rows
        assert await _schemas_but_other_runs(pg_url) == before | {schema}
        users = await pg_fetch(isolation.with_schema(pg_url, schema), "SELECT email FROM \"user\"")
        assert [u["email"] for u in users] == ["inside@example.com"]

    assert await _names(pg_url, DATABASES) == databases
    assert await _schemas_but_other_runs(pg_url) == before, "the test's schema was not dropped"


def test_migrate_builds_the_tables_inside_the_schema_of_the_url(tmp_path: Path, empty_pg_url: str) -> None:
    schema = isolation.schema_of(empty_pg_url)

    async def tables() -> dict[str, set[str]]:
        """Our tables by schema, other runs' test schemas left out."""
        rows = await pg_fetch(empty_pg_url, "SELECT table_schema, table_name FROM information_schema.tables "
                                            "WHERE table_name IN ('account', 'api_token', 'tortoise_migrations')")
        found: dict[str, set[str]] = {}
        for row in rows:
            if row["table_schema"] == schema or not isolation.SCHEMA_PATTERN.match(row["table_schema"]):
                found.setdefault(row["table_schema"], set()).add(row["table_name"])
        return found

    before = asyncio.run(tables())
    result = run_cli("migrate", cwd=tmp_path, env=child_env(OUTBOUNDQL_DATABASE_URL=empty_pg_url))
    assert result.returncode == 0, result.stderr

    assert schema not in before
    assert asyncio.run(tables()) == {**before, schema: {"account", "api_token", "tortoise_migrations"}}


async def test_the_next_run_drops_what_a_gone_run_left_and_nothing_else(pg_url: str) -> None:
    gone, live = secrets.token_hex(4), secrets.token_hex(4)
    gone_schemas = [f"oql_t_{gone}_{secrets.token_hex(6)}" for _ in range(2)]
    live_schema = f"oql_t_{live}_{secrets.token_hex(6)}"
    foreign = [f"oql_t_{gone}", f"oql_tx_{gone}_0", f"keep_{gone}"]  # not the suite's names
    admin = await isolation.connect(pg_url)
    live_run = await isolation.connect(pg_url)  # another run, still going: it holds its lock
    try:
        await live_run.execute("SELECT pg_advisory_lock($1, $2)", isolation.LOCK_CLASS, isolation.run_key(live))
        for name in [*gone_schemas, live_schema, *foreign]:
            await admin.execute(f'CREATE SCHEMA "{name}"')
            await admin.execute(f'CREATE TABLE "{name}".t (id int)')

        dropped = await isolation.drop_stale_schemas(admin)

        assert set(gone_schemas) <= set(dropped) and live_schema not in dropped
        left = await _schemas(pg_url)
        assert not set(gone_schemas) & left
        assert {live_schema, *foreign} <= left
        assert not [s for s in dropped if s.startswith(f"{isolation.SCHEMA_PREFIX}{isolation.RUN}_")], "ours"
    finally:
        for name in [live_schema, *foreign, *gone_schemas]:
            await admin.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
        await live_run.close()
        await admin.close()


async def test_a_pooled_schema_comes_back_empty_with_its_identities_restarted(pg_url: str) -> None:
    async with database(pg_url, pooled=True) as ctx:
        first = await models.User.create(email="a@example.com", name="A")
        gone = await models.User.create(email="b@example.com", name="B")
        await gone.delete()
        user = await models.User.create(email="c@example.com", name="C")
        await models.ApiToken.create(user=user, name="t", token_hash="h" * 64, prefix="p")
        _, rows = await ctx.connections.get("default").execute_query("SELECT current_schema() AS s")
        schema = rows[0]["s"]
        assert first.id == 1

    async with database(pg_url, pooled=True) as ctx:
        _, rows = await ctx.connections.get("default").execute_query("SELECT current_schema() AS s")
        assert rows[0]["s"] == schema, "the schema was not reused"
        assert await models.User.all().count() == 0 and await models.ApiToken.all().count() == 0
        again = await models.User.create(email="a@example.com", name="A")
        assert again.id == 1, "identities were not restarted"


async def test_a_schema_whose_catalog_changed_or_still_in_use_is_dropped_not_reused(pg_url: str) -> None:
    async with database(pg_url, pooled=True) as ctx:
        conn = ctx.connections.get("default")
        _, rows = await conn.execute_query("SELECT current_schema() AS s")
        changed = rows[0]["s"]
        await conn.execute_script("CREATE FUNCTION noop() RETURNS trigger LANGUAGE plpgsql AS "
                                  "$$ BEGIN RETURN NEW; END $$;"
                                  'CREATE TRIGGER noop BEFORE INSERT ON "user" FOR EACH ROW EXECUTE FUNCTION noop()')
    assert changed not in await _schemas(pg_url)

    async with database(pg_url, pooled=True) as ctx:
        _, rows = await ctx.connections.get("default").execute_query("SELECT current_schema() AS s")
        busy = rows[0]["s"]
        lingering = await isolation.connect(isolation.with_schema(pg_url, busy))  # a process a test did not stop
    try:
        assert busy not in await _schemas(pg_url)
    finally:
        lingering.terminate()  # the drop ended its session already


def test_the_redis_db_is_the_one_the_url_names(redis_url: str, private_redis_url: str) -> None:
    assert private_redis_url == redis_url
