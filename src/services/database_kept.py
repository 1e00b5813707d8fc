"""What the database keeps itself (`outboundql.models.triggers`): each project's account count, read in one indexed
lookup, and each thread's attention; both checked against the rows, and repaired, by ``outboundql recount``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tortoise import connections
from tortoise.transactions import in_transaction

from outboundql import models
from outboundql.models import triggers
from outboundql.services import audit
from outboundql.services.sql import int_list, placeholder


async def account_count(project_id: int) -> int:
    """How many accounts the project holds (the caller has checked access to it)."""
    row = await models.ProjectCounts.get_or_none(project_id=project_id)
    return row.accounts if row else 0


@dataclass(frozen=True)
class CountDrift:
    """A project whose kept account count differed from its rows (now repaired)."""

    project_id: int
    slug: str
    kept: int
    actual: int


@dataclass(frozen=True)
class Recounted:
    """What `recount` did: how many projects it checked, those whose account count it repaired, and how many
    threads' attention it set again."""

    checked: int
    drifted: list[CountDrift]
    threads_repaired: int = 0


async def recount(project_ids: Sequence[int] | None = None) -> Recounted:
    """Check the kept account count of the given projects (all when None) against their rows, and their threads'
    attention against their messages; repair and report what drifted. The count and the rows are read in one
    statement, and a repair moves the count by the difference, so accounts written meanwhile stay counted."""
    if project_ids is not None and not project_ids:
        return Recounted(0, [])
    conn = connections.get("default")
    only = "" if project_ids is None else f'WHERE p."id" IN ({int_list(project_ids)}) '
    rows = await conn.execute_query_dict(
        'SELECT p."id", p."slug", COALESCE(c."accounts", 0) AS "kept", (SELECT COUNT(*) FROM "account" a '
        f'WHERE a."project_id" = p."id") AS "actual" FROM "project" p LEFT JOIN "project_counts" c '
        f'ON c."project_id" = p."id" {only}ORDER BY p."id"') if project_ids != [] else []
    drifted = [CountDrift(int(r["id"]), r["slug"], int(r["kept"]), int(r["actual"]))
               for r in rows if int(r["kept"]) != int(r["actual"])]
    for drift in drifted:
        async with in_transaction() as tx:
            values = f"VALUES ({placeholder(tx, 1)}, {placeholder(tx, 2)})"
            await tx.execute_query(triggers.ADD_ACCOUNTS.format(rows=values),
                                   [drift.project_id, drift.actual - drift.kept])
            project = await models.Project.get(id=drift.project_id)
            await audit.record(project_id=drift.project_id, actor=None, action="project.recount", row=project,
                               before={"accounts": drift.kept}, after={"accounts": drift.actual})
    return Recounted(len(rows), drifted, await _reset_attention(project_ids))


async def _reset_attention(project_ids: Sequence[int] | None) -> int:
    """Set again the attention of the projects' threads whose kept attention is not what their messages say; how
    many there were."""
    wrong = f'("attention_level" <> {triggers.ATTENTION_LEVEL} OR "attention_at" <> {triggers.ATTENTION_SINCE})'
    if project_ids is not None:
        wrong += (f' AND "campaign_id" IN (SELECT "id" FROM "campaign" WHERE "project_id" IN '
                  f"({int_list(project_ids)}))")
    async with in_transaction() as tx:
        [row] = await tx.execute_query_dict(f'SELECT COUNT(*) AS "n" FROM "campaign_account" WHERE {wrong}')
        if int(row["n"]):
            await tx.execute_query(triggers.ATTENTION_SET.format(rows=wrong))
    return int(row["n"])
