"""Live account events: a subscription per project (in-process, or Redis pub/sub across processes)."""

from __future__ import annotations

import enum
from collections.abc import AsyncGenerator

import strawberry
from strawberry import relay

from outboundql import models
from outboundql.errors import NotFound
from outboundql.gql.accounts import Account
from outboundql.gql.base import pk_of
from outboundql.gql.context import Info
from outboundql.gql.errors import ClientError
from outboundql.gql.loaders import Loaders
from outboundql.gql.permissions import IsAuthenticated
from outboundql.services import events


@strawberry.enum
class AccountEventKind(enum.Enum):
    CREATED = "created"
    UPDATED = "updated"
    MERGED = "merged"


@strawberry.type(description="An account of the project changed.")
class AccountEvent:
    kind: AccountEventKind
    account: Account | None = strawberry.field(description="Null if it was removed since.")


@strawberry.type
class AccountSubscriptions:
    @strawberry.subscription(permission_classes=[IsAuthenticated],
                             description="Accounts created, updated or merged in a project, live.")
    async def account_events(self, info: Info, project_id: relay.GlobalID) -> AsyncGenerator[AccountEvent, None]:
        try:
            pid = pk_of(project_id, "Project", "projectId")
            info.context.access.require(pid)
        except NotFound as exc:
            raise ClientError(exc.message, "NOT_FOUND") from None
        async for event in events.get_bus().subscribe(events.account_channel(pid)):
            # The stream outlives the check above: check the token and membership again, and read fresh rows.
            await info.context.recheck()
            info.context.loaders = Loaders()
            try:
                info.context.access.require(pid)
            except NotFound as exc:
                raise ClientError(exc.message, "NOT_FOUND") from None
            row = await models.Account.filter(id=event["account_id"], project_id=pid).first()
            yield AccountEvent(kind=AccountEventKind(event["kind"]), account=Account.from_model(row) if row else None)
