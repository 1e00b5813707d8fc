"""The campaign list of a project (``Project.campaigns``)."""

from __future__ import annotations

import inspect

from outboundql.gql.campaigns.inputs import CampaignFilter, CampaignOrder
from outboundql.gql.campaigns.types import CampaignConnection
from outboundql.gql.context import Info
from outboundql.services import campaigns


async def resolve_campaigns(info: Info, project_id: int, flt: CampaignFilter | None, order: CampaignOrder | None,
                            *, first: int | None = None, after: str | None = None, last: int | None = None,
                            before: str | None = None) -> CampaignConnection:
    queryset = campaigns.project_campaigns(info.context.access, project_id, flt.to_command() if flt else None,
                                           order.to_command() if order else None)
    result = CampaignConnection.resolve_connection(queryset, info=info, first=first, after=after, last=last,
                                                   before=before)
    page: CampaignConnection = await result if inspect.isawaitable(result) else result
    return page
