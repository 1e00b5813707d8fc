"""The campaign list of a project (``Project.campaigns``)."""

from __future__ import annotations

from outboundql.gql.campaigns.inputs import CampaignFilter, CampaignOrder
from outboundql.gql.campaigns.types import CampaignConnection
from outboundql.gql.context import Info
from outboundql.services import campaigns


async def resolve_campaigns(info: Info, project_id: int, flt: CampaignFilter | None, order: CampaignOrder | None,
                            *, first: int | None = None, after: str | None = None, last: int | None = None,
                            before: str | None = None) -> CampaignConnection:
    queryset = campaigns.project_campaigns(info.context.access, project_id, flt.to_command() if flt else None,
                                           order.to_command() if order else None)
    return await CampaignConnection.page(queryset, info, first=first, after=after, last=last, before=before)
