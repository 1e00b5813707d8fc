"""The viewer, memberships and API tokens."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry import relay

from outboundql import models
from outboundql.gql.base import RowType, lazy_class, maybe, mutation, pk_of
from outboundql.gql.context import Info
from outboundql.gql.enums import Role
from outboundql.gql.errors import UserError
from outboundql.gql.permissions import IsAuthenticated
from outboundql.services import tokens, users
from outboundql.services.access import parse_id

if TYPE_CHECKING:
    from outboundql.gql.projects import Project

_PROJECTS = "outboundql.gql.projects"
ProjectRef = Annotated["Project", strawberry.lazy(_PROJECTS)]


@strawberry.type(description="A person using the API.")
class User(RowType, relay.Node):
    id: relay.NodeID[int]
    email: str
    name: str
    language: str | None = strawberry.field(
        description="A BCP 47 language tag (e.g. es, pt-BR); used when nothing closer sets a language.")
    row: strawberry.Private[models.User]

    @classmethod
    async def resolve_nodes(cls, *, info: Any, node_ids: Iterable[str], required: bool = False) -> list[Any]:
        # Users are visible to themselves and to members of a shared project.
        pks = [parse_id(i) for i in node_ids]
        rows = await users.visible_users(info.context.access, [pk for pk in pks if pk is not None])
        return [cls.from_model(rows[pk]) if pk is not None and pk in rows else None for pk in pks]

    @strawberry.field(description="This user's projects, with their role in each (only projects you share).")
    async def memberships(self, info: Info) -> list[Membership]:
        rows = await users.shared_memberships(info.context.access, self.row.id)
        return [Membership(role=r.role, project_id=r.project_id) for r in rows]

    @strawberry.field(description="Your API tokens, newest first; empty for anyone but yourself. "
                      "Secrets are never shown again.")
    async def api_tokens(self, info: Info, include_revoked: bool = False) -> list[ApiToken]:
        if self.row.id != info.context.access.user.id:
            return []
        return [ApiToken.from_model(t) for t in await tokens.user_tokens(self.row.id, include_revoked)]


@strawberry.type(description="A user's role in one project.")
class Membership:
    role: Role
    project_id: strawberry.Private[int]

    @strawberry.field
    async def project(self, info: Info) -> ProjectRef:
        project: type[Project] = lazy_class(ProjectRef)
        return project.from_model(await info.context.loaders.project_by_id.load(self.project_id))


@strawberry.type(description="An API token. The secret itself is returned only by `createApiToken`.")
class ApiToken(RowType, relay.Node):
    id: relay.NodeID[int]
    name: str
    prefix: str = strawberry.field(description="The first characters of the secret, to recognise it.")
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None = strawberry.field(
        description="When the token was last used, refreshed at most once a minute."
    )
    row: strawberry.Private[models.ApiToken]

    @classmethod
    async def resolve_nodes(cls, *, info: Any, node_ids: Iterable[str], required: bool = False) -> list[Any]:
        pks = [parse_id(i) for i in node_ids]
        rows = await tokens.tokens_by_id(info.context.access.user, [pk for pk in pks if pk is not None])
        return [cls.from_model(rows[pk]) if pk is not None and pk in rows else None for pk in pks]


@strawberry.input
class CreateApiTokenInput:
    name: str = ""
    expires_in_days: int | None = strawberry.field(default=None, description="1–3650; null never expires.")

    def to_command(self) -> tokens.CreateApiToken:
        return tokens.CreateApiToken(name=self.name, expires_in_days=self.expires_in_days)


@strawberry.type
class CreateApiTokenPayload:
    token: ApiToken | None = None
    secret: str | None = strawberry.field(default=None, description="The bearer token. Shown only this once.")
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class RevokeApiTokenInput:
    id: relay.GlobalID


@strawberry.type
class RevokeApiTokenPayload:
    token: ApiToken | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class UpdateViewerInput:
    name: str | None = strawberry.UNSET
    language: str | None = strawberry.field(default=strawberry.UNSET, description="A BCP 47 language tag (es, "
                                            "pt-BR, zh-Hant); null clears it. Drafts and reasons fall back to it.")


@strawberry.type
class UpdateViewerPayload:
    user: User | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class UserQueries:
    @strawberry.field(permission_classes=[IsAuthenticated], description="The signed-in user.")
    async def viewer(self, info: Info) -> User:
        return User.from_model(info.context.access.user)


@strawberry.type
class UserMutations:
    @mutation("Create an API token for yourself. The secret is in the payload, once. No idempotency key: the "
              "secret is never stored, so a retry could not be answered it again; if an answer is lost, revoke "
              "the token (listed by `viewer.apiTokens`) and create another.")
    async def create_api_token(self, info: Info, input: CreateApiTokenInput) -> CreateApiTokenPayload:
        result = await tokens.create_api_token(info.context.access.user, input.to_command())
        return CreateApiTokenPayload(token=ApiToken.from_model(result.token), secret=result.secret)

    @mutation("Change your own name or language.")
    async def update_viewer(self, info: Info, input: UpdateViewerInput) -> UpdateViewerPayload:
        cmd = users.UpdateViewer(name=maybe(input.name), language=maybe(input.language))
        return UpdateViewerPayload(user=User.from_model(await users.update_viewer(info.context.access, cmd)))

    @mutation("Revoke one of your API tokens. Requests with it fail from then on.")
    async def revoke_api_token(self, info: Info, input: RevokeApiTokenInput) -> RevokeApiTokenPayload:
        cmd = tokens.RevokeApiToken(id=pk_of(input.id, "ApiToken", "id", "API token"))
        result = await tokens.revoke_api_token(info.context.access.user, cmd)
        return RevokeApiTokenPayload(token=ApiToken.from_model(result.token))
