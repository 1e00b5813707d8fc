"""Saved filters: named expressions over a project's accounts (see `outboundql.services.saved_filters`)."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry import relay
from strawberry.scalars import JSON

from outboundql import models
from outboundql.gql.base import ProjectNode, maybe, mutation, pk_of
from outboundql.gql.context import Info
from outboundql.gql.errors import UserError
from outboundql.gql.idempotency import idempotency_key, replayed
from outboundql.services import saved_filters as service

EXPRESSION_HELP = (
    'A filter expression: {"all": [...]}, {"any": [...]}, {"not": {...}} or a condition '
    '{"field": F, "op": OP, "value": V}. Fields: name, domain, industry, employee_count, country, city, '
    "language, time_zone, status, tags, source, created_at, contract_end_date, or cf.<key> for a custom field. "
    "Operators: eq, ne, in, not_in, gt, gte, lt, lte, contains (text, case-insensitive; for tags: has the tag), "
    "exists."
)


@strawberry.type(description="A named filter over the project's accounts; usable as a campaign's audience.")
class SavedFilter(ProjectNode):
    id: relay.NodeID[int]
    name: str = strawberry.field(description="Unique in the project (case-insensitive).")
    expression: JSON = strawberry.field(description=EXPRESSION_HELP)
    created_at: datetime
    updated_at: datetime
    row: strawberry.Private[models.SavedFilter]
    node_model = models.SavedFilter

    @strawberry.field(description="How many of the project's accounts match now.")
    async def match_count(self, info: Info) -> int:
        return await info.context.loaders.saved_filter_match_count.load(self.row)


@strawberry.input
class CreateSavedFilterInput:
    project_id: relay.GlobalID
    name: str
    expression: JSON = strawberry.field(description=EXPRESSION_HELP)
    idempotency_key: str | None = idempotency_key("the first saved filter")

    def to_command(self) -> service.CreateSavedFilter:
        return service.CreateSavedFilter(project_id=pk_of(self.project_id, "Project", "project_id"), name=self.name,
                                         expression=self.expression, idempotency_key=self.idempotency_key)


@strawberry.input(description="Only the fields given change.")
class UpdateSavedFilterInput:
    id: relay.GlobalID
    name: str | None = strawberry.UNSET
    expression: JSON | None = strawberry.field(default=strawberry.UNSET, description=EXPRESSION_HELP)

    def to_command(self) -> service.UpdateSavedFilter:
        return service.UpdateSavedFilter(id=pk_of(self.id, "SavedFilter", "id"), name=maybe(self.name),
                                         expression=maybe(self.expression))


@strawberry.input
class DeleteSavedFilterInput:
    id: relay.GlobalID


@strawberry.type
class SavedFilterPayload:
    saved_filter: SavedFilter | None = None
    replayed: bool = replayed("createSavedFilter")
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class DeleteSavedFilterPayload:
    deleted_saved_filter_id: relay.GlobalID | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class SavedFilterMutations:
    @mutation("Save a named filter expression; errors name the path of each mistake, e.g. "
              "`input.expression.all[2].op`.")
    async def create_saved_filter(self, info: Info, input: CreateSavedFilterInput) -> SavedFilterPayload:
        result = await service.create_saved_filter(info.context.access, input.to_command())
        return SavedFilterPayload(saved_filter=SavedFilter.from_model(result.saved_filter), replayed=result.replayed)

    @mutation("Rename a saved filter or replace its expression.")
    async def update_saved_filter(self, info: Info, input: UpdateSavedFilterInput) -> SavedFilterPayload:
        result = await service.update_saved_filter(info.context.access, input.to_command())
        return SavedFilterPayload(saved_filter=SavedFilter.from_model(result.saved_filter))

    @mutation("Delete a saved filter (refused while a campaign uses it as its audience). Accounts are untouched.")
    async def delete_saved_filter(self, info: Info, input: DeleteSavedFilterInput) -> DeleteSavedFilterPayload:
        cmd = service.DeleteSavedFilter(id=pk_of(input.id, "SavedFilter", "id"))
        result = await service.delete_saved_filter(info.context.access, cmd)
        return DeleteSavedFilterPayload(deleted_saved_filter_id=relay.GlobalID("SavedFilter",
                                                                               str(result.saved_filter_id)))
