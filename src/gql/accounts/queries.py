"""The account list of a project, as a Relay connection."""

from __future__ import annotations

from outboundql.gql.accounts.inputs import AccountFilter, AccountOrder
from outboundql.gql.accounts.types import AccountConnection
from outboundql.gql.context import Info
from outboundql.services import accounts as accounts_service


async def resolve_accounts(
    info: Info, project_id: int, flt: AccountFilter | None, order: AccountOrder | None,
    first: int | None, after: str | None, last: int | None, before: str | None,
) -> AccountConnection:
    """`Project.accounts`: the project's accounts, filtered and sorted by the service, a page of them."""
    access = info.context.access
    query = flt.to_query() if flt else None
    queryset = accounts_service.project_accounts(access, project_id, query, order.to_order() if order else None)
    return await AccountConnection.page(
        queryset, info, first=first, after=after, last=last, before=before,
        count=lambda: accounts_service.count_project_accounts(access, project_id, query))
