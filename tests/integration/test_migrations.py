"""The committed migrations build exactly the schema the models describe, on SQLite and PostgreSQL.

Each database step runs in its own ``asyncio.run`` so every tortoise context (``apply_migrations``
opens its own) stays inside that step.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from tortoise.context import TortoiseContext
from tortoise.migrations.autodetector import MigrationAutodetector

from outboundql.models import triggers
from outboundql.models.config import apply_migrations, tortoise_config
from tests import isolation

MIGRATIONS_TABLE = "tortoise_migrations"

Schema = dict[str, dict[str, Any]]


async def _generate_schemas(url: str) -> None:
    async with TortoiseContext() as ctx:
        await ctx.init(config=tortoise_config(url))
        await triggers.generate_schemas(ctx)


def _norm_type(raw: str) -> str:
    """Rough type family: enough to catch a wrong column type, tolerant of spelling."""
    t = raw.lower().strip()
    t = re.sub(r"\s+", " ", t)
    aliases = {"int4": "int", "integer": "int", "int": "int", "serial": "int", "int8": "bigint",
               "bigserial": "bigint", "int2": "smallint", "bool": "bool", "boolean": "bool",
               "timestamptz": "timestamp", "timestamp": "timestamp", "float8": "double", "real": "double",
               "double precision": "double", "numeric": "decimal", "decimal": "decimal", "jsonb": "json",
               "json": "json", "varchar": "varchar", "character varying": "varchar", "text": "text",
               "date": "date", "uuid": "uuid", "char": "char", "bpchar": "char"}
    base, _, rest = t.partition("(")
    base = aliases.get(base.strip(), base.strip())
    return f"{base}({rest}" if rest else base


def sqlite_schema(path: Path) -> Schema:
    conn = sqlite3.connect(path)
    try:
        tables = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'")]
        schema: Schema = {}
        for table in tables:
            if table == MIGRATIONS_TABLE:
                continue
            columns = {
                name: (not notnull and not pk, _norm_type(ctype))
                for _cid, name, ctype, notnull, _default, pk in conn.execute(f'PRAGMA table_info("{table}")')
            }
            indexes = set()
            for _seq, iname, unique, _origin, _partial in conn.execute(f'PRAGMA index_list("{table}")'):
                cols = tuple(r[2] for r in conn.execute(f'PRAGMA index_info("{iname}")'))
                indexes.add((bool(unique), cols))
            fks = {
                (row[3], row[2], row[4], row[6].upper())
                for row in conn.execute(f'PRAGMA foreign_key_list("{table}")')
            }
            named = {r[0]: r[1] for r in conn.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ?", (table,))}
            schema[table] = {"columns": columns, "indexes": indexes, "fks": fks, "triggers": named}
        return schema
    finally:
        conn.close()


async def pg_schema(url: str) -> Schema:
    """Tables, indexes and foreign keys of the schema ``url`` works in (its ``search_path``)."""
    conn = await isolation.connect(url)
    try:
        schema: Schema = {}
        for r in await conn.fetch(
            "SELECT table_name, column_name, is_nullable, udt_name, character_maximum_length "
            "FROM information_schema.columns WHERE table_schema = current_schema()"
        ):
            if r["table_name"] == MIGRATIONS_TABLE:
                continue
            ctype = r["udt_name"] + (f"({r['character_maximum_length']})" if r["character_maximum_length"] else "")
            table = schema.setdefault(r["table_name"], {"columns": {}, "indexes": set(), "fks": set(),
                                                        "triggers": {}})
            table["columns"][r["column_name"]] = (r["is_nullable"] == "YES", _norm_type(ctype))
        for r in await conn.fetch(
            """
            SELECT t.relname AS table_name, i.indisunique AS is_unique, i.indisprimary AS is_primary,
                   array_agg(a.attname ORDER BY k.ord) AS cols
            FROM pg_index i
            JOIN pg_class t ON t.oid = i.indrelid
            JOIN pg_namespace n ON n.oid = t.relnamespace
            CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
            JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
            WHERE n.nspname = current_schema()
            GROUP BY i.indexrelid, t.relname, i.indisunique, i.indisprimary
            """
        ):
            if r["table_name"] == MIGRATIONS_TABLE:
                continue
            schema[r["table_name"]]["indexes"].add((r["is_primary"], r["is_unique"], tuple(r["cols"])))
        for r in await conn.fetch(
            """
            SELECT c.conrelid::regclass::text AS table_name, a.attname AS col,
                   c.confrelid::regclass::text AS ref_table, c.confdeltype AS on_delete
            FROM pg_constraint c
            JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY(c.conkey)
            JOIN pg_namespace n ON n.oid = c.connamespace
            WHERE c.contype = 'f' AND n.nspname = current_schema()
            """
        ):
            table_name = r["table_name"].strip('"')
            if table_name == MIGRATIONS_TABLE:
                continue
            schema[table_name]["fks"].add((r["col"], r["ref_table"].strip('"'), r["on_delete"]))
        for r in await conn.fetch(
            "SELECT c.relname AS table_name, t.tgname AS name, "
            "replace(pg_get_triggerdef(t.oid), quote_ident(current_schema()) || '.', '') || ' ' || p.prosrc "
            "AS definition FROM pg_trigger t "
            "JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_proc p ON p.oid = t.tgfoid "
            "WHERE NOT t.tgisinternal AND c.relnamespace = current_schema()::regnamespace"
        ):
            schema[r["table_name"]]["triggers"][r["name"]] = r["definition"]
        return schema
    finally:
        await conn.close()


def assert_same_schema(migrated: Schema, generated: Schema) -> None:
    assert generated, "generate_schemas produced no tables"
    assert sorted(migrated) == sorted(generated), "tables differ between migrations and models"
    for table in sorted(generated):
        m, g = migrated[table], generated[table]
        assert m["columns"] == g["columns"], f"{table}: columns (nullable, type) differ"
        assert m["indexes"] == g["indexes"], f"{table}: unique constraints / index column sets differ"
        assert m["fks"] == g["fks"], f"{table}: foreign keys differ"
        assert m["triggers"] == g["triggers"], f"{table}: triggers (names and definitions) differ"
    counted = {"account_counted", "account_uncounted", "account_moved"}
    revised = ({"accounts_revised_insert", "accounts_revised_update", "accounts_revised_delete"},  # SQLite: per event
               {"accounts_revised"})  # PostgreSQL: one deferred trigger
    assert set(generated["account"]["triggers"]) in tuple(counted | r for r in revised)


def test_models_and_migrations_agree() -> None:
    """What `tortoise makemigrations` would do: no pending changes for the models."""

    async def changes() -> list[Any]:
        config = tortoise_config("sqlite://:memory:")
        async with TortoiseContext() as ctx:
            await ctx.init(config=config)
            return await MigrationAutodetector(ctx.apps, config["apps"]).changes()

    writers = asyncio.run(changes())
    assert writers == [], (
        "models changed without a migration: run `tortoise -c outboundql.models.config.TORTOISE_ORM "
        f"makemigrations` ({[w.operations for w in writers]})"
    )


def test_sqlite_migrations_build_the_models_schema(tmp_path: Path) -> None:
    migrated, generated = tmp_path / "migrated.db", tmp_path / "generated.db"
    asyncio.run(apply_migrations(f"sqlite://{migrated}"))
    asyncio.run(_generate_schemas(f"sqlite://{generated}"))

    migrated_schema = sqlite_schema(migrated)
    assert "account" in migrated_schema and "api_token" in migrated_schema
    assert_same_schema(migrated_schema, sqlite_schema(generated))


def test_sqlite_migrating_twice_is_a_noop(tmp_path: Path) -> None:
    db = tmp_path / "twice.db"
    asyncio.run(apply_migrations(f"sqlite://{db}"))
    before = sqlite_schema(db)
    conn = sqlite3.connect(db)
    applied = conn.execute(f"SELECT COUNT(*) FROM {MIGRATIONS_TABLE}").fetchone()[0]
    conn.close()

    asyncio.run(apply_migrations(f"sqlite://{db}"))

    conn = sqlite3.connect(db)
    try:
        assert conn.execute(f"SELECT COUNT(*) FROM {MIGRATIONS_TABLE}").fetchone()[0] == applied >= 1
    finally:
        conn.close()
    assert sqlite_schema(db) == before


@pytest.mark.integration
def test_postgres_migrations_build_the_models_schema(pg_url: str) -> None:
    """Each in a schema of its own inside the test database (the URL names it, as ``outboundql migrate``
    is given it)."""
    migrated, generated = (asyncio.run(isolation.create_schema_url(pg_url)) for _ in range(2))

    async def scenario() -> tuple[Schema, Schema, Schema, int]:
        await apply_migrations(migrated)
        first = await pg_schema(migrated)
        await apply_migrations(migrated)  # again: nothing to do
        second = await pg_schema(migrated)
        await _generate_schemas(generated)
        conn = await isolation.connect(migrated)
        try:
            applied = await conn.fetchval(f"SELECT COUNT(*) FROM {MIGRATIONS_TABLE}")
        finally:
            await conn.close()
        return first, second, await pg_schema(generated), applied

    async def cleanup() -> None:
        await isolation.drop_schema_url(migrated)
        await isolation.drop_schema_url(generated)

    try:
        first, second, generated_schema, applied = asyncio.run(scenario())
    finally:
        asyncio.run(cleanup())

    assert "account" in first and "api_token" in first
    assert applied == len(list((Path(__file__).parents[2] / "src/models/migrations").glob("0*.py")))
    assert second == first, "migrating twice changed the schema"
    assert_same_schema(first, generated_schema)


def test_sqlite_0012_to_0015_move_signals_keep_scores_share_usage_count_accounts_attention_revisions(tmp_path: Path,
                                                                                              ) -> None:
    """Data written before 0012 comes through it: a message's notes become confirmed signals of kind ``other``,
    and each campaign row's kept scores and its campaign's counters are filled from the fit scores; then (0013) a paid
    call about one account becomes that account's share; then (0014) each project's accounts are counted (and the
    count moves with the next account written), and each thread's attention is set from its messages."""
    from tortoise.migrations.executor import MigrationExecutor, MigrationTarget

    from outboundql.models.migrating import _orm

    db = tmp_path / "old.db"

    async def up_to_0011() -> None:
        async with _orm(f"sqlite://{db}") as client:
            await MigrationExecutor(client, tortoise_config(f"sqlite://{db}")["apps"]).migrate(
                targets=[MigrationTarget("models", "0011_replies_and_inbound")])

    asyncio.run(up_to_0011())
    now = "2026-11-01 10:00:00+00:00"
    conn = sqlite3.connect(db)
    stamps = {"created_at": now, "updated_at": now}

    def insert(table: str, **values: Any) -> int:
        values = {**stamps, **values}
        cur = conn.execute(f'INSERT INTO "{table}" ({", ".join(values)}) VALUES ({", ".join("?" * len(values))})',
                           list(values.values()))
        return int(cur.lastrowid or 0)

    user = insert("user", email="old@example.com", name="Old")
    project = insert("project", name="P", slug="p", description="")
    empty = insert("project", name="Q", slug="q", description="")
    product = insert("product", name="W", slug="w", description="", example_good_urls="[]", example_bad_urls="[]",
                     project_id=project)
    campaign_cols = dict(name="C", slug="c", description="", keywords="[]", goal_key="sales", audience_config="{}",
                         status="draft", scoring_status="idle", scoring_done=0, scoring_total=0, total_accounts=3,
                         scored_accounts=2, approved_accounts=0, outreached_accounts=0, responded_accounts=0,
                         product_id=product, project_id=project, cadence="{}", execution_state="not_live",
                         import_mapping="{}", add_inbound_contacts=0, lose_on_not_interested=1)
    campaign = insert("campaign", **campaign_cols)
    rows = []
    for i, (score, override, other_goal) in enumerate(((7.5, None, False), (2.0, 9.0, False), (None, None, True))):
        account = insert("account", name=f"A{i}", name_key=f"a{i}", city_key="", description="", tags="[]",
                         custom_fields="{}", status="new", project_id=project)
        rows.append(insert("campaign_account", review_status="pending", outreach_status="not_started", notes="",
                           account_id=account, campaign_id=campaign, attempts_made=0, execution_disabled=0,
                           execution_status="not_planned", goal_outcome="open", plan_round=0,
                           override_score=override))
        if score is not None or other_goal:
            insert("fit_score", goal_key="recruiting" if other_goal else "sales", score=score or 5.0, band="medium",
                   justifications="[]", persona_version=1, scorer="rubric", account_id=account, product_id=product,
                   project_id=project)
    message_cols = dict(direction="outbound", channel="phone_call", status="sent", mode="log_sent",
                        original_text="Call", campaign_account_id=rows[0], project_id=project,
                        reply_class_corrected=0, created_by_id=user)
    with_notes = insert("message", signals='["Budget in Q3", "Uses SAP", "Budget in Q3", " "]', **message_cols)
    insert("message", signals="[]", **message_cols)
    thread = {**message_cols, "campaign_account_id": rows[1], "channel": "email", "signals": "[]"}
    insert("message", **{**thread, "direction": "inbound", "sent_at": "2026-11-01 10:00:00+00:00"})  # a reply,
    insert("message", **{**thread, "sent_at": "2026-11-01 10:30:00+00:00"})  # answered
    first_account = conn.execute("SELECT account_id FROM campaign_account ORDER BY id").fetchone()[0]
    for account_id in (first_account, None):  # a draft about one account; a batch about several (not recorded)
        conn.execute("INSERT INTO api_usage (provider, model, operation, input_units, output_units, cost_usd, "
                     "campaign_id, account_id, project_id, created_at) VALUES ('openai', 'm', 'draft', 10, 5, "
                     "'0.012000', ?, ?, ?, ?)", (campaign, account_id, project, now))
    conn.commit()
    conn.close()

    asyncio.run(apply_migrations(f"sqlite://{db}"))

    conn = sqlite3.connect(db)
    try:
        signals = conn.execute('SELECT message_id, campaign_id, kind, text, status, source, created_by_id '
                               'FROM signal ORDER BY id').fetchall()
        kept = conn.execute("SELECT ai_score, score_stale, effective_score FROM campaign_account "
                            "ORDER BY id").fetchall()
        shares = conn.execute("SELECT account_id, cost_usd, input_units, output_units FROM api_usage_share").fetchall()
        counters = conn.execute("SELECT stale_score_count, score_bucket_2, score_bucket_7, "
                                "score_bucket_0 + score_bucket_1 + score_bucket_3 + score_bucket_4 + score_bucket_5 "
                                "+ score_bucket_6 + score_bucket_8 + score_bucket_9 FROM campaign").fetchone()
        counted = conn.execute("SELECT project_id, accounts FROM project_counts ORDER BY project_id").fetchall()
        attention = conn.execute("SELECT attention_level, attention_at FROM campaign_account ORDER BY id").fetchall()
        revisions = dict(conn.execute("SELECT project_id, revision FROM accounts_revision").fetchall())
        conn.execute("INSERT INTO account (name, name_key, city_key, description, tags, custom_fields, status, "
                     "project_id, created_at, updated_at) VALUES ('New', 'new', '', '', '[]', '{}', 'new', ?, ?, ?)",
                     (empty, now, now))
        moved = conn.execute("SELECT project_id, accounts FROM project_counts ORDER BY project_id").fetchall()
        revised = dict(conn.execute("SELECT project_id, revision FROM accounts_revision").fetchall())
    finally:
        conn.close()
    assert signals == [(with_notes, campaign, "other", "Budget in Q3", "confirmed", "person", user),
                       (with_notes, campaign, "other", "Uses SAP", "confirmed", "person", user)]
    assert kept == [(7.5, 0, 7.5), (2.0, 0, 9.0), (None, 1, None)]
    assert counters == (1, 1, 1, 0)
    # 0013: a call about one account is all that account's.
    assert [(a, float(c), i, o) for a, c, i, o in shares] == [(first_account, 0.012, 10, 5)]
    # 0014: every project counted, and the triggers in place.
    assert counted == [(project, 3), (empty, 0)]
    assert moved == [(project, 3), (empty, 1)]
    # ... and every thread's attention set from its messages.
    assert attention == [(0, now), (1, "2026-11-01 10:00:00+00:00"), (0, now)]
    # 0015: every project has an accounts revision, and a new one when its accounts are written.
    assert sorted(revisions) == sorted(revised) == sorted([project, empty])
    assert revised[project] == revisions[project] and revised[empty] != revisions[empty]


async def _up_to_0015_with_other_revision_triggers(url: str) -> None:
    """Migrated up to 0015, then its revision triggers replaced by ones that do nothing (as if 0015 had installed
    another version of the group)."""
    from tortoise.migrations.executor import MigrationExecutor, MigrationTarget

    from outboundql.models.migrating import _orm

    async with _orm(url) as client:
        await MigrationExecutor(client, tortoise_config(url)["apps"]).migrate(
            targets=[MigrationTarget("models", "0015_accounts_revision")])
        if client.capabilities.dialect == "postgres":
            await client.execute_script('CREATE OR REPLACE FUNCTION "accounts_revised"() RETURNS trigger '
                                        "LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$")
        else:
            for event in ("insert", "update", "delete"):
                await client.execute_script(f'DROP TRIGGER "accounts_revised_{event}"')
                await client.execute_script(f'CREATE TRIGGER "accounts_revised_{event}" AFTER {event.upper()} '
                                            'ON "account" BEGIN SELECT 1; END')


def test_sqlite_0016_installs_the_revision_triggers_again(tmp_path: Path) -> None:
    migrated, generated = f"sqlite://{tmp_path / 'old.db'}", f"sqlite://{tmp_path / 'generated.db'}"
    asyncio.run(_up_to_0015_with_other_revision_triggers(migrated))
    before = sqlite_schema(tmp_path / "old.db")
    asyncio.run(apply_migrations(migrated))
    asyncio.run(_generate_schemas(generated))
    after, wanted = sqlite_schema(tmp_path / "old.db"), sqlite_schema(tmp_path / "generated.db")
    assert before["account"]["triggers"] != wanted["account"]["triggers"]  # what 0016 has to change
    assert_same_schema(after, wanted)


@pytest.mark.integration
def test_postgres_0016_installs_the_revision_triggers_again(pg_url: str) -> None:
    migrated, generated = (asyncio.run(isolation.create_schema_url(pg_url)) for _ in range(2))

    async def scenario() -> tuple[Schema, Schema, Schema]:
        await _up_to_0015_with_other_revision_triggers(migrated)
        before = await pg_schema(migrated)
        await apply_migrations(migrated)
        await _generate_schemas(generated)
        return before, await pg_schema(migrated), await pg_schema(generated)

    async def cleanup() -> None:
        await isolation.drop_schema_url(migrated)
        await isolation.drop_schema_url(generated)

    try:
        before, after, wanted = asyncio.run(scenario())
    finally:
        asyncio.run(cleanup())
    assert before["account"]["triggers"] != wanted["account"]["triggers"]  # what 0016 has to change
    assert_same_schema(after, wanted)
