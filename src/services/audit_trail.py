"""Reading the audit trail: a project's events, newest first, filtered, a page at a time.

Pages are keyset pages on (``created_at``, ``id``), served by the ``(project_id, created_at, id)`` index: a page
costs the same at any depth, and events written while someone pages never shift what the next page holds.
Erasure empties the ``before``/``after`` of events about erased people (`services.erasure`), so what is read
here never holds them again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from outboundql import models
from outboundql.models.audit import AuditSource
from outboundql.services import sql

MAX_ACTIONS = 50


@dataclass(frozen=True, slots=True)
class AuditFilter:
    actor_id: int | None = None
    """Events by this user (an id no user has: none)."""
    objects: tuple[tuple[str, int], ...] = ()
    """Events about any of these (object type, id) pairs."""
    object_type: str | None = None
    actions: tuple[str, ...] = ()
    """Exact actions (``campaign.update``) or, ending with a dot, every action of a kind (``campaign.``)."""
    since: datetime | None = None
    """Events at or after this instant."""
    until: datetime | None = None
    """Events before this instant."""
    source: AuditSource | None = None


@dataclass(frozen=True, slots=True)
class Position:
    """Where a page starts: after the event at (``created_at``, ``id``), going back in time."""

    created_at: datetime
    id: int


def project_events(project_id: int, flt: AuditFilter) -> QuerySet[models.AuditEvent]:
    """The events of one project matching ``flt`` (unordered)."""
    query = models.AuditEvent.filter(project_id=project_id)
    if flt.actor_id is not None:
        query = query.filter(actor_id=flt.actor_id)
    if flt.objects:
        by_type: dict[str, list[int]] = {}
        for object_type, object_id in flt.objects:
            by_type.setdefault(object_type, []).append(object_id)
        about = Q()
        for object_type, ids in by_type.items():
            about |= Q(object_type=object_type, object_id__in=ids)
        query = query.filter(about)
    if flt.object_type:
        query = query.filter(object_type=flt.object_type)
    if flt.actions:
        wanted = Q()
        for action in flt.actions:
            wanted |= Q(action__startswith=action) if action.endswith(".") else Q(action=action)
        query = query.filter(wanted)
    if flt.since is not None:
        query = query.filter(created_at__gte=flt.since)
    if flt.until is not None:
        query = query.filter(created_at__lt=flt.until)
    if flt.source is not None:
        query = query.filter(source=flt.source)
    return query


async def page(query: QuerySet[models.AuditEvent], first: int, after: Position | None, *,
               until: Position | None = None) -> list[models.AuditEvent]:
    """Up to ``first`` + 1 events of ``query`` newest first, older than ``after`` (and newer than ``until``); the
    extra one tells whether another page follows."""
    if after is not None:
        query = query.filter(_older(after))
    if until is not None:
        query = query.filter(_newer(until))
    return list(await query.order_by("-created_at", "-id").limit(first + 1))


async def page_back(query: QuerySet[models.AuditEvent], last: int, before: Position | None
                    ) -> list[models.AuditEvent]:
    """Up to ``last`` + 1 events of ``query`` newer than ``before``, oldest first (the page that precedes it)."""
    if before is not None:
        query = query.filter(_newer(before))
    return list(await query.order_by("created_at", "id").limit(last + 1))


def _older(p: Position) -> Q:
    return Q(created_at__lt=p.created_at) | Q(created_at=p.created_at, id__lt=p.id)


def _newer(p: Position) -> Q:
    return Q(created_at__gt=p.created_at) | Q(created_at=p.created_at, id__gt=p.id)


async def account_objects(account_id: int) -> tuple[tuple[str, int], ...]:
    """The objects whose events an account's trail shows: the account and its contacts."""
    contact_ids = await sql.column(models.Contact.filter(account_id=account_id).values_list("id", flat=True))
    return (("Account", account_id), *(("Contact", int(c)) for c in contact_ids))
