"""Reading campaign accounts: the dry run of adding accounts to a campaign."""

from __future__ import annotations

import strawberry
from strawberry import relay

from outboundql.gql.base import pk_or_none
from outboundql.gql.context import Info
from outboundql.gql.errors import ArgumentErrors
from outboundql.gql.guardrails import GuardrailExplanation, GuardrailOverrides, explain
from outboundql.gql.permissions import IsAuthenticated
from outboundql.services import campaign_accounts as service


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
