"""The counts the database keeps for each project (`outboundql.models.triggers`): read in one indexed lookup, and
checked against the rows by ``outboundql recount``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tortoise import connections
from tortoise.transactions import in_transaction

from outboundql import models
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
    """What `recount` did: how many projects it checked, and those whose count it repaired."""

    checked: int
    drifted: list[CountDrift]


async def recount(project_ids: Sequence[int] | None = None) -> Recounted:
    """Check the kept account count of the given projects (all when None) against their rows; repair and report
    those that drifted. The count and the rows are read in one statement, and a repair moves the count by the
    difference, so accounts written meanwhile stay counted."""
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
            await tx.execute_query(
                f'INSERT INTO "project_counts" ("project_id", "accounts") VALUES ({placeholder(tx, 1)}, '
                f'{placeholder(tx, 2)}) ON CONFLICT ("project_id") DO UPDATE SET "accounts" = '
                '"project_counts"."accounts" + EXCLUDED."accounts"', [drift.project_id, drift.actual - drift.kept])
            project = await models.Project.get(id=drift.project_id)
            await audit.record(project_id=drift.project_id, actor=None, action="project.recount", row=project,
                               before={"accounts": drift.kept}, after={"accounts": drift.actual})
    return Recounted(len(rows), drifted)
