"""Reading campaign accounts: the connections behind `Campaign.accounts` and `Campaign.inbox`, and the
dry run of adding accounts to a campaign."""

from __future__ import annotations

import inspect

import strawberry
from strawberry import relay

from outboundql import models
from outboundql.gql.base import pk_or_none
from outboundql.gql.campaign_accounts.inputs import CampaignAccountFilter, CampaignAccountOrder
from outboundql.gql.campaign_accounts.types import CampaignAccountConnection
from outboundql.gql.context import Info
from outboundql.gql.enums import Direction
from outboundql.gql.errors import ArgumentErrors
from outboundql.gql.guardrails import GuardrailExplanation, GuardrailOverrides, explain
from outboundql.gql.permissions import IsAuthenticated
from outboundql.services import campaign_accounts as service
from outboundql.services import inbox as inbox_service
from outboundql.services.campaign_account_queries import campaign_accounts


async def _page(nodes: object, info: Info, first: int | None, after: str | None, last: int | None,
                before: str | None) -> CampaignAccountConnection:
    result = CampaignAccountConnection.resolve_connection(nodes, info=info, first=first, after=after, last=last,
                                                          before=before)
    return await result if inspect.isawaitable(result) else result  # type: ignore[no-any-return]


async def resolve_campaign_accounts(
    info: Info, campaign: models.Campaign, flt: CampaignAccountFilter | None, order: CampaignAccountOrder | None,
    first: int | None, after: str | None, last: int | None, before: str | None,
) -> CampaignAccountConnection:
    """`Campaign.accounts`: the campaign's accounts, filtered and ordered, a page at a time."""
    order = order or CampaignAccountOrder()
    rows = campaign_accounts(campaign, flt.to_command() if flt else None, order.field.value,
                             order.direction is Direction.DESC)
    return await _page(rows, info, first, after, last, before)


async def resolve_campaign_inbox(
    info: Info, campaign: models.Campaign, first: int | None, after: str | None, last: int | None,
    before: str | None,
) -> CampaignAccountConnection:
    """`Campaign.inbox`: the campaign's threads that need a person, in attention order, a page at a time."""
    return await _page(inbox_service.inbox(campaign.id), info, first, after, last, before)


@strawberry.type
class CampaignAccountQueries:
    @strawberry.field(permission_classes=[IsAuthenticated], extensions=[ArgumentErrors()],
                      description="Dry run of add: would these accounts be admitted to this campaign, and why. "
                      "Changes nothing. At most 1000 ids (OUTBOUNDQL_MAX_BULK_ITEMS); null when the campaign "
                      "is not found.")
    async def explain_guardrails(self, info: Info, campaign_id: relay.GlobalID, account_ids: list[relay.GlobalID],
                                 overrides: GuardrailOverrides | None = None) -> GuardrailExplanation | None:
        campaign = await service.visible_campaign(info.context.access, pk_or_none(campaign_id, "Campaign"))
        if campaign is None:
            return None
        return await explain(info, campaign.project_id, campaign.goal_key, account_ids, overrides)
