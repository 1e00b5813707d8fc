"""The suppression list: addresses nobody is contacted at again (addSuppressions, removeSuppressions,
Project.suppressions)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry import relay

from outboundql import enums, models
from outboundql.gql.base import ProjectNode, lazy_class, mutation, pk_of, pk_or_none
from outboundql.gql.context import Info
from outboundql.gql.errors import UserError, user_errors
from outboundql.gql.pagination import CountedConnection
from outboundql.services import suppressions as service

if TYPE_CHECKING:
    from outboundql.gql.users import User

    SuppressionKind = enums.SuppressionKind
    SuppressionSource = enums.SuppressionSource
else:
    SuppressionKind = strawberry.enum(
        enums.SuppressionKind,
        description="What an entry matches: EMAIL (one address), PHONE (one number, E.164) or DOMAIN (every e-mail "
        "address at the domain, and the accounts of that domain).")
    SuppressionSource = strawberry.enum(
        enums.SuppressionSource,
        description="What added an entry: MANUAL (addSuppressions), UNSUBSCRIBE (a link or a reply), BOUNCE (a "
        "permanent delivery failure), IMPORT, ERASURE (erased on request), OTHER.")

UserRef = Annotated["User", strawberry.lazy("outboundql.gql.users")]


@strawberry.type(description="An address of the project nobody is contacted at again: never planned, never "
                 "executed, never logged as sent (unless overridden), never imported.")
class Suppression(ProjectNode):
    id: relay.NodeID[int]
    kind: SuppressionKind
    value: str = strawberry.field(description="As stored: a lowercase e-mail address or domain, an E.164 phone "
                                  "number.")
    reason: str = strawberry.field(description="Why, as given; may be empty.")
    created_at: datetime = strawberry.field(description="Since when.")
    row: strawberry.Private[models.Suppression]
    node_model = models.Suppression

    @strawberry.field(description="What added it.")
    def source(self) -> SuppressionSource:
        try:
            return enums.SuppressionSource(self.row.source)
        except ValueError:
            return enums.SuppressionSource.OTHER

    @strawberry.field(description="Who added it; null for an automatic entry (an unsubscribe link, a bounce) or a "
                      "deleted user.")
    async def created_by(self, info: Info) -> UserRef | None:
        if self.row.created_by_id is None:
            return None
        row = await info.context.loaders.user_by_id.load(self.row.created_by_id)
        return lazy_class(UserRef).from_model(row) if row else None


@strawberry.type
class SuppressionConnection(CountedConnection[Suppression]):
    @classmethod
    def resolve_node(cls, node: models.Suppression, *, info: Info, **kwargs: Any) -> Suppression:
        return Suppression.from_model(node)


async def resolve_suppressions(info: Info, project_id: int, kind: enums.SuppressionKind | None,
                               search: str | None, *, first: int | None, after: str | None, last: int | None,
                               before: str | None) -> SuppressionConnection:
    rows = service.project_suppressions(info.context.access, project_id,
                                        None if kind is None else enums.SuppressionKind(kind), search)
    return await SuppressionConnection.page(rows, info, first=first, after=after, last=last, before=before)


@strawberry.input(description="An address to suppress.")
class SuppressionEntryInput:
    kind: SuppressionKind
    value: str = strawberry.field(description="An e-mail address (any case), a phone number in international format "
                                  "(+34 612 345 678) or a domain (acme.com; a URL is read as its domain).")
    reason: str | None = strawberry.field(default=None, description="Why (at most 1000 characters).")


@strawberry.input(description="Addresses to add to a project's suppression list.")
class AddSuppressionsInput:
    project_id: relay.GlobalID
    entries: list[SuppressionEntryInput] = strawberry.field(
        description="At most 1000 (the server's bulk limit).")

    def to_command(self) -> service.AddSuppressions:
        return service.AddSuppressions(
            project_id=pk_of(self.project_id, "Project", "project_id"),
            entries=[service.Entry(enums.SuppressionKind(e.kind), e.value, e.reason or "") for e in self.entries])


@strawberry.type(description="The answer of addSuppressions.")
class AddSuppressionsPayload:
    added_count: int = strawberry.field(default=0, description="How many entries were written.")
    added: list[Suppression] = strawberry.field(default_factory=list, description="The entries written.")
    already_present: list[Suppression] = strawberry.field(
        default_factory=list, description="Entries asked for that were already on the list (or repeated in the "
        "request), as they are: their first reason and source are kept. Not an error.")
    errors: list[UserError] = strawberry.field(
        default_factory=list, description="Problems with the whole request (no entries, too many: then nothing was "
        "written), else each refused entry's (field `input.entries[i].value`); the others were written all the same.")


@strawberry.input(description="Entries to take off a project's suppression list.")
class RemoveSuppressionsInput:
    project_id: relay.GlobalID
    ids: list[relay.GlobalID] = strawberry.field(description="Suppression ids, at most 1000.")

    def to_command(self) -> service.RemoveSuppressions:
        return service.RemoveSuppressions(project_id=pk_of(self.project_id, "Project", "project_id"),
                                          ids=[pk_or_none(gid, "Suppression") for gid in self.ids])


@strawberry.type(description="The answer of removeSuppressions.")
class RemoveSuppressionsPayload:
    removed_count: int = strawberry.field(default=0, description="How many entries were taken off.")
    removed_ids: list[relay.GlobalID] = strawberry.field(default_factory=list,
                                                         description="The entries taken off, in request order.")
    errors: list[UserError] = strawberry.field(
        default_factory=list, description="Problems with the whole request (no ids, too many), else each id of no "
        "entry of the project (NOT_FOUND on `input.ids[i]`); the others were taken off all the same.")


@strawberry.type
class SuppressionMutations:
    @mutation("Add addresses to the project's suppression list (the member role): e-mail addresses and domains are "
              "lowercased, phone numbers written as E.164; an invalid value fails alone, an address already there is "
              "answered in `alreadyPresent`. Rows already planned are checked again when they are executed, and "
              "logging a sent message to a suppressed address is refused. Each entry added is audited.")
    async def add_suppressions(self, info: Info, input: AddSuppressionsInput) -> AddSuppressionsPayload:
        result = await service.add_suppressions(info.context.access, input.to_command())
        return AddSuppressionsPayload(
            added_count=len(result.added), added=[Suppression.from_model(r) for r in result.added],
            already_present=[Suppression.from_model(r) for r in result.already_present],
            errors=user_errors(info, result.failed))

    @mutation("Take entries off the project's suppression list by id (the member role): the addresses can be "
              "imported and contacted again. Each entry removed is audited with what it was.")
    async def remove_suppressions(self, info: Info, input: RemoveSuppressionsInput) -> RemoveSuppressionsPayload:
        result = await service.remove_suppressions(info.context.access, input.to_command())
        return RemoveSuppressionsPayload(
            removed_count=len(result.removed),
            removed_ids=[relay.GlobalID("Suppression", str(r.id)) for r in result.removed],
            errors=user_errors(info, result.not_found))
