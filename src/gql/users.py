"""The viewer, memberships and API tokens."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry import relay

from outboundql import models
from outboundql.gql.base import RowType, mutation, pk_of
from outboundql.gql.context import Info
from outboundql.gql.enums import Role
from outboundql.gql.errors import UserError
from outboundql.gql.permissions import IsAuthenticated
from outboundql.services import tokens
from outboundql.services.access import parse_id

if TYPE_CHECKING:
    from outboundql.gql.projects import Project

ProjectRef = Annotated["Project", strawberry.lazy("outboundql.gql.projects")]


@strawberry.type(description="A person using the API.")
class User(RowType, relay.Node):
    id: relay.NodeID[int]
    email: str
    name: str
    language: str | None = strawberry.field(description="ISO 639-1; used when nothing closer sets a language.")
    row: strawberry.Private[models.User]

    @classmethod
    async def resolve_nodes(cls, *, info: Info, node_ids: list[str], required: bool = False) -> list[User | None]:
        # Users are visible to themselves and to members of a shared project.
        access = info.context.access
        pks = [parse_id(i) for i in node_ids]
        ids = [pk for pk in pks if pk is not None]
        visible = set(
            await models.Membership.filter(user_id__in=ids, project_id__in=access.project_ids).values_list(
                "user_id", flat=True
            )
        ) | {access.user.id}
        rows = {u.id: u for u in await models.User.filter(id__in=[i for i in ids if i in visible])}
        return [cls.from_model(rows[pk]) if pk is not None and pk in rows else None for pk in pks]

    @strawberry.field(description="This user's projects, with their role in each (only projects you share).")
    async def memberships(self, info: Info) -> list[Membership]:
        access = info.context.access
        rows = await models.Membership.filter(user_id=self.row.id, project_id__in=access.project_ids).order_by(
            "project_id"
        )
        return [Membership(role=r.role, project_id=r.project_id) for r in rows]

    @strawberry.field(description="Your API tokens, newest first; empty for anyone but yourself. "
                      "Secrets are never shown again.")
    async def api_tokens(self, info: Info, include_revoked: bool = False) -> list[ApiToken]:
        if self.row.id != info.context.access.user.id:
            return []
        qs = models.ApiToken.filter(user_id=self.row.id)
        if not include_revoked:
            qs = qs.filter(revoked_at__isnull=True)
        return [ApiToken.from_model(t) for t in await qs.order_by("-created_at", "-id")]


@strawberry.type(description="A user's role in one project.")
class Membership:
    role: Role
    project_id: strawberry.Private[int]

    @strawberry.field
    async def project(self, info: Info) -> ProjectRef:
        from outboundql.gql.projects import Project

        return Project.from_model(await info.context.loaders.project_by_id.load(self.project_id))


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
    async def resolve_nodes(cls, *, info: Info, node_ids: list[str], required: bool = False) -> list[ApiToken | None]:
        pks = [parse_id(i) for i in node_ids]
        ids = [pk for pk in pks if pk is not None]
        rows = {t.id: t for t in await models.ApiToken.filter(id__in=ids, user_id=info.context.access.user.id)}
        return [cls.from_model(rows[pk]) if pk is not None and pk in rows else None for pk in pks]


@strawberry.input
class CreateApiTokenInput:
    name: str = ""
    expires_in_days: int | None = strawberry.field(default=None, description="1–3650; null never expires.")


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


@strawberry.type
class UserQueries:
    @strawberry.field(permission_classes=[IsAuthenticated], description="The signed-in user.")
    async def viewer(self, info: Info) -> User:
        return User.from_model(info.context.access.user)


@strawberry.type
class UserMutations:
    @mutation("Create an API token for yourself. The secret is in the payload, once.")
    async def create_api_token(self, info: Info, input: CreateApiTokenInput) -> CreateApiTokenPayload:
        issued = await tokens.issue_token(info.context.access.user, input.name, input.expires_in_days)
        return CreateApiTokenPayload(token=ApiToken.from_model(issued.row), secret=issued.secret)

    @mutation("Revoke one of your API tokens. Requests with it fail from then on.")
    async def revoke_api_token(self, info: Info, input: RevokeApiTokenInput) -> RevokeApiTokenPayload:
        row = await tokens.revoke_token(info.context.access.user, pk_of(input.id, "ApiToken", "input.id", "API token"))
        return RevokeApiTokenPayload(token=ApiToken.from_model(row))
