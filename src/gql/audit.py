"""The audit trail as GraphQL: `AuditEvent`, its keyset connection and filters (`Project.auditEvents`,
`Campaign.auditEvents`, `Account.auditEvents`)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry import relay
from strawberry.relay.utils import from_base64, to_base64
from strawberry.scalars import JSON

from outboundql import models
from outboundql.gql.base import ProjectNode, lazy_class, pk_or_none
from outboundql.gql.context import Info
from outboundql.gql.errors import ClientError
from outboundql.gql.pagination import check_slice, max_page_size
from outboundql.models.audit import AuditSource as AuditSourceValue
from outboundql.services import audit_trail
from outboundql.services.audit_trail import AuditFilter, Position

if TYPE_CHECKING:
    from outboundql.gql.users import User

UserRef = Annotated["User", strawberry.lazy("outboundql.gql.users")]
_CURSOR = "auditevent"

AuditSource = strawberry.enum(AuditSourceValue, name="AuditSource",
                              description="Where a change came from: API (a request, with its API token), CLI (an "
                              "operator's command), WORKER (a background job or the outreach engine), IMPORT.")


@strawberry.type(description="One field of a change: its value before and after (null: none, or erased).")
class AuditChange:
    field: str = strawberry.field(description="The field's name as stored (snake_case).")
    before: JSON | None
    after: JSON | None


@strawberry.type(description="One change: who made it, when, from where, to which object, and the fields it "
                 "changed (before and after). Personal data of erased people is not kept in `changes`.")
class AuditEvent(ProjectNode):
    id: relay.NodeID[int]
    action: str = strawberry.field(description="What happened, `<object>.<verb>`: `campaign.update`, "
                                   "`membership.remove`, `invitation.accept`…")
    object_type: str = strawberry.field(description="The type of the object changed (`Campaign`, `Account`…).")
    created_at: datetime
    row: strawberry.Private[models.AuditEvent]
    token: strawberry.Private[models.ApiToken | None] = None
    node_model = models.AuditEvent

    @classmethod
    def of(cls, row: models.AuditEvent, token: models.ApiToken | None) -> AuditEvent:
        event = cls.from_model(row)
        event.token = token
        return event

    @strawberry.field(description="The global id of the object changed (it may no longer exist).")
    def object_id(self) -> relay.GlobalID:
        return relay.GlobalID(self.row.object_type, str(self.row.object_id))

    @strawberry.field(description="Who made the change; null for the engine acting by itself (or a deleted user).")
    async def actor(self, info: Info) -> UserRef | None:
        if self.row.actor_id is None:
            return None
        row = await info.context.loaders.user_by_id.load(self.row.actor_id)
        return lazy_class(UserRef).from_model(row) if row else None

    @strawberry.field(description="Where the change came from; events without an actor written before sources "
                      "were recorded read WORKER, others null.")
    def source(self) -> AuditSource | None:  # type: ignore[valid-type]
        if self.row.source is not None:
            return AuditSourceValue(self.row.source)
        return AuditSourceValue.WORKER if self.row.actor_id is None else None

    @strawberry.field(description="The name of the API token the change was made with (API changes).")
    def api_token_name(self) -> str | None:
        return self.token.name if self.token is not None else None

    @strawberry.field(description="The changed fields, before and after (a creation has only after, a deletion "
                      "only before); empty when the details were erased.")
    def changes(self) -> list[AuditChange]:
        before, after = self.row.before or {}, self.row.after or {}
        return [AuditChange(field=k, before=before.get(k), after=after.get(k))
                for k in dict.fromkeys([*before, *after])]


@strawberry.type(description="An event and its cursor.")
class AuditEventEdge:
    cursor: str
    node: AuditEvent


@strawberry.type(description="A page of audit events, newest first. Cursors are positions in time, so events "
                 "written while paging never shift a page.")
class AuditEventConnection:
    edges: list[AuditEventEdge]
    page_info: relay.PageInfo
    query: strawberry.Private[Any]

    @strawberry.field(description="Number of events matching the filter (counted only when asked).")
    async def total_count(self) -> int:
        return int(await self.query.count())


@strawberry.input(description="Which events of a project to show (all given conditions hold).")
class AuditEventFilter:
    actor_id: relay.GlobalID | None = strawberry.field(default=None, description="Changes made by this user.")
    object_id: relay.GlobalID | None = strawberry.field(default=None, description="Changes to this object.")
    object_type: str | None = strawberry.field(default=None, description="Changes to objects of this type "
                                               "(`Campaign`, `Account`, `Membership`…).")
    actions: list[str] | None = strawberry.field(default=None, description="These actions (`campaign.update`), or "
                                                 "every action of a kind when ending with a dot (`campaign.`); at "
                                                 "most 50.")
    since: datetime | None = strawberry.field(default=None, description="Changes at or after this instant.")
    until: datetime | None = strawberry.field(default=None, description="Changes before this instant.")
    source: AuditSource | None = None  # type: ignore[valid-type]


@strawberry.input(description="Which events of one object's trail to show.")
class AuditTrailFilter:
    actor_id: relay.GlobalID | None = strawberry.field(default=None, description="Changes made by this user.")
    actions: list[str] | None = strawberry.field(default=None, description="As in `AuditEventFilter.actions`.")
    since: datetime | None = None
    until: datetime | None = None
    source: AuditSource | None = None  # type: ignore[valid-type]


def to_filter(flt: AuditEventFilter | AuditTrailFilter | None,
              objects: tuple[tuple[str, int], ...] = ()) -> AuditFilter:
    if flt is None:
        return AuditFilter(objects=objects)
    actions = tuple(a.strip() for a in (flt.actions or ()) if a.strip())
    if len(actions) > audit_trail.MAX_ACTIONS:
        raise ClientError(f"Filter by at most {audit_trail.MAX_ACTIONS} actions.", "BAD_FILTER")
    actor = -1 if flt.actor_id is not None else None  # an id no user has: no events
    if flt.actor_id is not None:
        actor = pk_or_none(flt.actor_id, "User") or -1
    object_type = None
    if isinstance(flt, AuditEventFilter):
        if flt.object_id is not None:
            pk = pk_or_none(flt.object_id, flt.object_id.type_name)
            objects = ((flt.object_id.type_name[:32], pk or -1),)
        object_type = (flt.object_type or "").strip()[:32] or None
    return AuditFilter(actor_id=actor, objects=objects, object_type=object_type, actions=actions,
                       since=flt.since, until=flt.until,
                       source=AuditSourceValue(flt.source) if flt.source is not None else None)


async def resolve_audit_events(info: Info, project_id: int, flt: AuditFilter, *, first: int | None,
                               after: str | None, last: int | None, before: str | None) -> AuditEventConnection:
    """A page of the project's events matching ``flt``: forwards with first/after (newest first), or backwards
    with last/before."""
    info.context.access.require(project_id)
    limit = max_page_size(info)
    check_slice(info, {"first": first, "last": last}, limit)
    start, end = _position(info, "after", after), _position(info, "before", before)
    query = audit_trail.project_events(project_id, flt)
    if last is not None and first is None:
        rows = await audit_trail.page_back(query, last, end)
        more_before = len(rows) > last
        rows = list(reversed(rows[:last]))
        has_next, has_previous = end is not None, more_before
    else:
        size = limit if first is None else first
        rows = await audit_trail.page(query, size, start, until=end)
        has_next, has_previous = len(rows) > size, start is not None
        rows = rows[:size]
    tokens = await _tokens([r.api_token_id for r in rows if r.api_token_id is not None])
    edges = [AuditEventEdge(cursor=_cursor(r), node=AuditEvent.of(r, tokens.get(r.api_token_id or 0)))
             for r in rows]
    return AuditEventConnection(
        edges=edges, query=query,
        page_info=relay.PageInfo(has_next_page=has_next, has_previous_page=has_previous,
                                 start_cursor=edges[0].cursor if edges else None,
                                 end_cursor=edges[-1].cursor if edges else None))


async def _tokens(ids: list[int]) -> dict[int, models.ApiToken]:
    if not ids:
        return {}
    return {t.id: t for t in await models.ApiToken.filter(id__in=sorted(set(ids))).only("id", "name")}


def _cursor(row: models.AuditEvent) -> str:
    return to_base64(_CURSOR, f"{row.created_at.isoformat()}|{row.id}")


def _position(info: Info, name: str, cursor: str | None) -> Position | None:
    if not cursor:
        return None
    try:
        prefix, value = from_base64(cursor)
        stamp, _, pk = value.partition("|")
        if prefix != _CURSOR:
            raise ValueError(prefix)
        position = Position(datetime.fromisoformat(stamp), int(pk))
        if position.created_at.tzinfo is None or not 0 < position.id < 2**31:
            raise ValueError(value)
    except (ValueError, TypeError, UnicodeError):
        raise ClientError(f"Argument '{name}' is not a cursor of the `{info.field_name}` connection: use a cursor "
                          "from its pageInfo or edges.", "BAD_PAGINATION") from None
    return position
