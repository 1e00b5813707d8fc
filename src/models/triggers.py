"""What the database keeps itself, moved by triggers in the transaction that writes the rows, so that every writer
is seen (services, bulk inserts, imports, cascades, SQL run by hand) and a reader finds it in one indexed lookup:

* each project's account count (`outboundql.models.ProjectCounts`), moved by the ``account`` rows written;
* each thread's attention (`CampaignAccount.attention_level` and ``attention_at``, what the inbox sorts by), set
  again from the thread's messages whenever one is written, moved or deleted;
* each project's accounts revision (`outboundql.models.AccountsRevision`), a new random value whenever a transaction
  that wrote the project's accounts commits: what is remembered about the accounts (saved filters' match counts)
  holds while it stays the same.

SQLite runs a trigger per row written. PostgreSQL runs one per statement over its transition table, so a bulk
insert of N accounts moves each project's count once and a batch of messages sets each thread once (an account
moved to another project, never done by the code, is counted per row). The accounts revision is the exception
there: a row trigger deferred to the commit, which writes each project's revision once per transaction.

`install` puts triggers in place (replacing those of the same name): the migration that introduced a group installs
it (`ACCOUNTS` and `ATTENTION`: 0014, `REVISIONS`: 0015, and again 0016), and every schema built from the models
(``generate_schemas`` in tests and benchmarks) installs them all (`ALL`). A migration installs the group as it is
now, so a group changes only in ways the schema of that migration's time still runs (otherwise it becomes a new
group), and a migration of its own installs the change on databases migrated before it. ``outboundql recount``
checks the account counts and the attention against the rows and repairs them (`outboundql.services.database_kept`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from outboundql.enums import Direction, MessageStatus

if TYPE_CHECKING:
    from tortoise.backends.base.client import BaseDBAsyncClient

def _sqlite(name: str, definition: str) -> list[str]:
    """SQLite: the trigger ``name`` (``definition``: what follows its name), replacing one of that name."""
    return [f'DROP TRIGGER IF EXISTS "{name}"', f'CREATE TRIGGER "{name}" {definition}']


_ACCOUNTS_SQLITE = [
    *_sqlite("account_counted", 'AFTER INSERT ON "account" BEGIN '
             'INSERT INTO "project_counts" ("project_id", "accounts") VALUES (NEW."project_id", 1) '
             'ON CONFLICT ("project_id") DO UPDATE SET "accounts" = "accounts" + 1; END'),
    *_sqlite("account_uncounted", 'AFTER DELETE ON "account" BEGIN '
             'UPDATE "project_counts" SET "accounts" = "accounts" - 1 WHERE "project_id" = OLD."project_id"; END'),
    *_sqlite("account_moved", 'AFTER UPDATE OF "project_id" ON "account" WHEN OLD."project_id" <> NEW."project_id" '
             'BEGIN UPDATE "project_counts" SET "accounts" = "accounts" - 1 WHERE "project_id" = OLD."project_id"; '
             'INSERT INTO "project_counts" ("project_id", "accounts") VALUES (NEW."project_id", 1) '
             'ON CONFLICT ("project_id") DO UPDATE SET "accounts" = "accounts" + 1; END'),
]

ADD_ACCOUNTS = ('INSERT INTO "project_counts" ("project_id", "accounts") {rows} ON CONFLICT ("project_id") '
                'DO UPDATE SET "accounts" = "project_counts"."accounts" + EXCLUDED."accounts"')
"""Add to projects' account counts (``rows``: project id and number, as VALUES or a SELECT)."""
_TAKE = ('UPDATE "project_counts" c SET "accounts" = c."accounts" - t."n" FROM ({rows}) AS t '
         'WHERE c."project_id" = t."project_id"')
_PER_PROJECT = 'SELECT "project_id", COUNT(*) AS "n" FROM {table} GROUP BY "project_id" ORDER BY "project_id"'


def _function(name: str, body: str) -> str:
    return (f'CREATE OR REPLACE FUNCTION "{name}"() RETURNS trigger LANGUAGE plpgsql AS $$ '
            f"BEGIN {body}; RETURN NULL; END $$")


_ACCOUNTS_POSTGRES = [
    _function("account_counted", ADD_ACCOUNTS.format(rows=_PER_PROJECT.format(table='"added"'))),
    _function("account_uncounted", _TAKE.format(rows=_PER_PROJECT.format(table='"removed"'))),
    _function("account_moved", _TAKE.format(rows='SELECT OLD."project_id" AS "project_id", 1 AS "n"') + "; "
              + ADD_ACCOUNTS.format(rows='VALUES (NEW."project_id", 1)')),
    'DROP TRIGGER IF EXISTS "account_counted" ON "account"',
    'CREATE TRIGGER "account_counted" AFTER INSERT ON "account" REFERENCING NEW TABLE AS "added" '
    'FOR EACH STATEMENT EXECUTE FUNCTION "account_counted"()',
    'DROP TRIGGER IF EXISTS "account_uncounted" ON "account"',
    'CREATE TRIGGER "account_uncounted" AFTER DELETE ON "account" REFERENCING OLD TABLE AS "removed" '
    'FOR EACH STATEMENT EXECUTE FUNCTION "account_uncounted"()',
    'DROP TRIGGER IF EXISTS "account_moved" ON "account"',
    'CREATE TRIGGER "account_moved" AFTER UPDATE OF "project_id" ON "account" FOR EACH ROW '
    'WHEN (OLD."project_id" IS DISTINCT FROM NEW."project_id") EXECUTE FUNCTION "account_moved"()',
]

ACCOUNTS = {"sqlite": _ACCOUNTS_SQLITE, "postgres": _ACCOUNTS_POSTGRES}
"""The triggers keeping `ProjectCounts.accounts`, per database."""


def _latest(column: str, condition: str) -> str:
    return (f'(SELECT MAX(m."{column}") FROM "message" m WHERE m."campaign_account_id" = "campaign_account"."id" '
            f"AND {condition})")


_SENT = f"m.\"status\" = '{MessageStatus.SENT.value}'"  # enum values: constants
_IN = _latest("sent_at", f"m.\"direction\" = '{Direction.INBOUND.value}' AND {_SENT}")
_OUT = _latest("sent_at", f"m.\"direction\" = '{Direction.OUTBOUND.value}' AND {_SENT}")
_DRAFT = _latest("created_at", f"m.\"status\" = '{MessageStatus.DRAFT.value}'")
_AWAITING = f"{_IN} IS NOT NULL AND ({_OUT} IS NULL OR {_OUT} <= {_IN})"  # they wrote last
ATTENTION_LEVEL = (f"CASE WHEN {_AWAITING} THEN 3 WHEN {_DRAFT} IS NOT NULL THEN 2 WHEN {_IN} IS NOT NULL THEN 1 "
                   "ELSE 0 END")
"""A thread's attention level, from its messages (an expression over a ``campaign_account`` row)."""
ATTENTION_SINCE = (f"CASE WHEN {_AWAITING} THEN {_IN} WHEN {_DRAFT} IS NOT NULL THEN {_DRAFT} WHEN {_IN} IS NOT NULL "
                   f'THEN {_IN} ELSE "campaign_account"."created_at" END')
"""Since when the thread stands at its level (an expression over a ``campaign_account`` row)."""

ATTENTION_SET = (f'UPDATE "campaign_account" SET "attention_level" = {ATTENTION_LEVEL}, '
                 f'"attention_at" = {ATTENTION_SINCE} WHERE {{rows}}')
"""Set the attention of the threads ``rows`` names (a condition on ``campaign_account``) from their messages."""

_THREADS = '"id" IN ({ids})'
_MOVED = ('SELECT t."x" FROM "old_rows" o JOIN "new_rows" n ON n."id" = o."id" CROSS JOIN LATERAL '
          '(VALUES (o."campaign_account_id"), (n."campaign_account_id")) AS t("x") WHERE '
          '(o."campaign_account_id", o."direction", o."status", o."sent_at", o."created_at") IS DISTINCT FROM '
          '(n."campaign_account_id", n."direction", n."status", n."sent_at", n."created_at")')
_WATCHED = '"campaign_account_id", "direction", "status", "sent_at", "created_at"'


def _set_for(ids: str) -> str:
    return ATTENTION_SET.format(rows=_THREADS.format(ids=ids))


def _locked_set_for(ids: str) -> str:
    """PostgreSQL: the threads' rows locked first, in id order (concurrent writers queue in one order, so they
    cannot deadlock here), then set by a statement of its own: it reads with a snapshot taken after the lock, so it
    sees the messages a writer it waited for committed."""
    return (f'PERFORM 1 FROM "campaign_account" WHERE {_THREADS.format(ids=ids)} ORDER BY "id" FOR NO KEY UPDATE; '
            + _set_for(ids))


_ATTENTION_SQLITE = [
    *_sqlite("thread_attention_added", 'AFTER INSERT ON "message" BEGIN '
             + _set_for('NEW."campaign_account_id"') + "; END"),
    *_sqlite("thread_attention_removed", 'AFTER DELETE ON "message" BEGIN '
             + _set_for('OLD."campaign_account_id"') + "; END"),
    *_sqlite("thread_attention_changed", f'AFTER UPDATE OF {_WATCHED} ON "message" BEGIN '
             + _set_for('OLD."campaign_account_id", NEW."campaign_account_id"') + "; END"),
]

_ATTENTION_POSTGRES = [
    _function("thread_attention_added", _locked_set_for('SELECT "campaign_account_id" FROM "added"')),
    _function("thread_attention_removed", _locked_set_for('SELECT "campaign_account_id" FROM "removed"')),
    _function("thread_attention_changed", _locked_set_for(_MOVED)),
    'DROP TRIGGER IF EXISTS "thread_attention_added" ON "message"',
    'CREATE TRIGGER "thread_attention_added" AFTER INSERT ON "message" REFERENCING NEW TABLE AS "added" '
    'FOR EACH STATEMENT EXECUTE FUNCTION "thread_attention_added"()',
    'DROP TRIGGER IF EXISTS "thread_attention_removed" ON "message"',
    'CREATE TRIGGER "thread_attention_removed" AFTER DELETE ON "message" REFERENCING OLD TABLE AS "removed" '
    'FOR EACH STATEMENT EXECUTE FUNCTION "thread_attention_removed"()',
    'DROP TRIGGER IF EXISTS "thread_attention_changed" ON "message"',
    'CREATE TRIGGER "thread_attention_changed" AFTER UPDATE ON "message" REFERENCING OLD TABLE AS "old_rows" '
    'NEW TABLE AS "new_rows" FOR EACH STATEMENT EXECUTE FUNCTION "thread_attention_changed"()',
]

ATTENTION = {"sqlite": _ATTENTION_SQLITE, "postgres": _ATTENTION_POSTGRES}
"""The triggers keeping `CampaignAccount.attention_level` and ``attention_at``, per database."""

_REVISE = ('INSERT INTO "accounts_revision" ("project_id", "revision") SELECT "id", {random} FROM "project" '
           'WHERE "id" {projects} ON CONFLICT ("project_id") DO UPDATE SET "revision" = EXCLUDED."revision"')
# (an account deleted with its project revises nothing: the project is gone by then, on both databases)
RANDOM = {"sqlite": "random()", "postgres": "(random() * 9.0e18)::bigint"}
"""A random BIGINT, per database (64 bits of chance on SQLite, 52 on PostgreSQL)."""

_REVISIONS_SQLITE = [
    statement
    for event, projects in (("INSERT", '= NEW."project_id"'), ("UPDATE", 'IN (OLD."project_id", NEW."project_id")'),
                            ("DELETE", '= OLD."project_id"'))
    for statement in _sqlite(f"accounts_revised_{event.lower()}", f'AFTER {event} ON "account" BEGIN '
                             + _REVISE.format(projects=projects, random=RANDOM["sqlite"]) + "; END")
]

_REVISIONS_POSTGRES = [
    # A row trigger deferred to the commit: the revision's row is locked last, when the transaction has taken every
    # other lock it needs, so a writer of one account never waits there for a transaction that waits for it. Once
    # per project and transaction: one transaction-local setting lists the projects revised (a setting named per
    # project would stay defined in the session after the transaction, and each new name costs PostgreSQL more).
    'CREATE OR REPLACE FUNCTION "accounts_revised"() RETURNS trigger LANGUAGE plpgsql AS $$ DECLARE p bigint; '
    "done text := coalesce(current_setting('outboundql.accounts_revised', true), ''); BEGIN "
    'FOREACH p IN ARRAY ARRAY[OLD."project_id", NEW."project_id"] LOOP '
    "CONTINUE WHEN p IS NULL OR strpos(done, ',' || p || ',') > 0; "
    "done := done || ',' || p || ','; "
    "PERFORM set_config('outboundql.accounts_revised', done, true); "
    + _REVISE.format(projects="= p", random=RANDOM["postgres"]) + "; END LOOP; RETURN NULL; END $$",
    'DROP TRIGGER IF EXISTS "accounts_revised" ON "account"',
    'CREATE CONSTRAINT TRIGGER "accounts_revised" AFTER INSERT OR UPDATE OR DELETE ON "account" '
    'DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION "accounts_revised"()',
]

REVISIONS = {"sqlite": _REVISIONS_SQLITE, "postgres": _REVISIONS_POSTGRES}
"""The triggers giving `AccountsRevision.revision` a new random value with every transaction that writes a
project's accounts, per database."""

ALL = (ACCOUNTS, ATTENTION, REVISIONS)
"""Every group of triggers."""


async def install(client: BaseDBAsyncClient, *groups: dict[str, list[str]]) -> None:
    """Put the triggers of ``groups`` (all of them when none is named) in place on the database ``client`` talks to;
    installing them again changes nothing."""
    for triggers in groups or ALL:
        for statement in triggers[client.capabilities.dialect]:
            await client.execute_script(statement)


async def generate_schemas(orm: Any) -> None:
    """A schema made straight from the models, as tests and benchmarks build theirs (``orm``: an initialised
    `tortoise.context.TortoiseContext`, or `tortoise.Tortoise`), with all the triggers. A deployed
    database is migrated instead (``outboundql migrate``)."""
    from tortoise import connections

    await orm.generate_schemas(safe=False)
    await install(connections.get("default"))
