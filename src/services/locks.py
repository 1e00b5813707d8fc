"""The locks writers take first, so concurrent writers queue in one order: a campaign's row for the writers of
its rows, a project's advisory lock for the writers that deduplicate its accounts."""

from __future__ import annotations

from tortoise import connections

from outboundql import models
from outboundql.services import sql

#: The namespace of the projects' advisory locks (the first key of ``pg_advisory_xact_lock``).
PROJECT_LOCK_KEY = 0x0B0A


async def locked_campaign(campaign_id: int) -> models.Campaign:
    """The campaign row, locked until the transaction ends (PostgreSQL; SQLite serialises writers)."""
    return await models.Campaign.filter(id=campaign_id).select_for_update().get()


async def locked_project(project_id: int) -> None:
    """Lock the project until the current transaction ends (a PostgreSQL advisory lock; SQLite serialises
    writers). Every writer that deduplicates accounts (imports, creations, upserts) takes it first."""
    conn = connections.get("default")  # the transaction's, inside one
    if sql.is_postgres(conn):
        await conn.execute_query("SELECT pg_advisory_xact_lock($1, $2)", [PROJECT_LOCK_KEY, project_id])
