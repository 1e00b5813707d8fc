"""Audit trail: one `AuditEvent` per change, written in the same transaction as the change, stamped with where
it came from (`origin`: an API token, a command, a worker, an import). Reading it: `audit_trail`."""

from __future__ import annotations

import contextlib
import datetime as dt
import decimal
import enum
from collections.abc import AsyncIterator, Iterator
from typing import Any

from tortoise.models import Model

from outboundql import models
from outboundql.models.audit import AuditSource, Origin, current_origin


@contextlib.contextmanager
def origin(source: AuditSource, api_token_id: int | None = None) -> Iterator[None]:
    """Every event written in the block (by this task and those it starts) comes from ``source``."""
    token = current_origin.set(Origin(source, api_token_id))
    try:
        yield
    finally:
        current_origin.reset(token)


def origin_columns() -> dict[str, Any]:
    """The ``source`` and ``api_token_id`` of an `AuditEvent` written as a plain row (a bulk INSERT), as
    `AuditEvent` itself stamps the ones it creates."""
    origin = current_origin.get()
    return {"source": origin.source, "api_token_id": origin.api_token_id}


def snapshot(row: Model, fields: list[str] | None = None) -> dict[str, Any]:
    """A JSON-safe copy of ``row``'s data fields (or just ``fields``)."""
    names = fields or [
        name for name in row._meta.db_fields if name not in ("id", "created_at", "updated_at")
    ]
    return {name: _jsonable(getattr(row, name)) for name in names}


def _jsonable(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    return value


async def record(
    *,
    project_id: int | None,
    actor: models.User | None,
    action: str,
    row: Model,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> models.AuditEvent:
    return await models.AuditEvent.create(
        project_id=project_id,
        actor=actor,
        action=action,
        object_type=type(row).__name__,
        object_id=row.pk,
        before=before,
        after=after,
    )


def changed(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Only the keys whose value differs, as (before, after)."""
    keys = [k for k in after if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}


@contextlib.asynccontextmanager
async def tracked(
    row: Model, *, project_id: int, actor: models.User | None, action: str
) -> AsyncIterator[dict[str, Any]]:
    """Record one `AuditEvent` for the fields the block changes (none if nothing changed).

    Example:
        async with audit.tracked(row, project_id=row.project_id, actor=user, action="market.update"):
            row.name = "New name"
            await row.save()

    The yielded dict takes extra "after" entries (e.g. values kept outside the row, like tags).
    """
    before = snapshot(row)
    extra: dict[str, Any] = {}
    yield extra
    old, new = changed(before, snapshot(row))
    new.update(extra)
    if new:
        await record(project_id=project_id, actor=actor, action=action, row=row, before=old, after=new)
