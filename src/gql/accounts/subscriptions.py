"""Live account events: a subscription per project (in-process, or Redis pub/sub across processes)."""

from __future__ import annotations

import enum
from collections.abc import AsyncGenerator

import strawberry
from strawberry import relay

from outboundql.errors import NotFound
from outboundql.gql.accounts.types import Account
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
    DELETED = "deleted"


@strawberry.type(description="An account of the project changed.")
class AccountEvent:
    kind: AccountEventKind
    account: Account | None = strawberry.field(description="Null if it was removed since.")


def _require_member(info: Info, project_id: int) -> None:
    try:
        info.context.access.require(project_id)
    except NotFound as exc:
        raise ClientError(exc.message, "NOT_FOUND") from None


@strawberry.type
class AccountSubscriptions:
    @strawberry.subscription(permission_classes=[IsAuthenticated],
                             description="Accounts created, updated, merged or deleted in a project, "
                             "live.")
    async def account_events(self, info: Info, project_id: relay.GlobalID) -> AsyncGenerator[AccountEvent, None]:
        try:
            pid = pk_of(project_id, "Project", "project_id")
        except NotFound as exc:
            raise ClientError(exc.message, "NOT_FOUND") from None
        _require_member(info, pid)
        async for event in events.get_bus().subscribe(events.account_channel(pid)):
            # The stream outlives the check above: check the token and membership again, and read fresh rows.
            await info.context.recheck()
            info.context.loaders = Loaders()
            _require_member(info, pid)
            row = await info.context.loaders.account_by_id.load(event["account_id"])
            account = Account.from_model(row) if row is not None and row.project_id == pid else None
            yield AccountEvent(kind=AccountEventKind(event["kind"]), account=account)
