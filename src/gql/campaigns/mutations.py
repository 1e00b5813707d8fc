"""Campaign mutations: create, update, archive and unarchive, delete."""

from __future__ import annotations

import strawberry
from strawberry import relay

from outboundql.gql.base import mutation, pk_of
from outboundql.gql.campaigns.inputs import (
    CampaignIdInput,
    CreateCampaignInput,
    DeleteCampaignInput,
    UpdateCampaignInput,
)
from outboundql.gql.campaigns.types import Campaign
from outboundql.gql.context import Info
from outboundql.gql.errors import UserError
from outboundql.gql.idempotency import replayed
from outboundql.services import campaigns


@strawberry.type
class CampaignPayload:
    campaign: Campaign | None = None
    replayed: bool = replayed("createCampaign")
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class DeleteCampaignPayload:
    deleted_campaign_id: relay.GlobalID | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


def _archived(input: CampaignIdInput, archived: bool) -> campaigns.SetCampaignArchived:
    return campaigns.SetCampaignArchived(id=pk_of(input.id, "Campaign", "id"), archived=archived)


@strawberry.type
class CampaignMutations:
    @mutation("Create a campaign for a product. Its slug comes from the name; its goal's persona is derived "
              "as a draft if the product has none for that goal.")
    async def create_campaign(self, info: Info, input: CreateCampaignInput) -> CampaignPayload:
        result = await campaigns.create_campaign(info.context.access, info.context.goals, input.to_command())
        return CampaignPayload(campaign=Campaign.from_model(result.campaign), replayed=result.replayed)

    @mutation("Rename, switch goal (scores are kept), move market, change the status hint, language, "
              "description, keywords or audience.")
    async def update_campaign(self, info: Info, input: UpdateCampaignInput) -> CampaignPayload:
        result = await campaigns.update_campaign(info.context.access, info.context.goals, input.to_command())
        return CampaignPayload(campaign=Campaign.from_model(result.campaign))

    @mutation("Hide a campaign from the default list; everything under it is kept.")
    async def archive_campaign(self, info: Info, input: CampaignIdInput) -> CampaignPayload:
        result = await campaigns.set_archived(info.context.access, _archived(input, True))
        return CampaignPayload(campaign=Campaign.from_model(result.campaign))

    @mutation("Show an archived campaign again.")
    async def unarchive_campaign(self, info: Info, input: CampaignIdInput) -> CampaignPayload:
        result = await campaigns.set_archived(info.context.access, _archived(input, False))
        return CampaignPayload(campaign=Campaign.from_model(result.campaign))

    @mutation("Delete a campaign and its own rows (never accounts or scores). Type its name back to confirm.")
    async def delete_campaign(self, info: Info, input: DeleteCampaignInput) -> DeleteCampaignPayload:
        result = await campaigns.delete_campaign(info.context.access, input.to_command())
        return DeleteCampaignPayload(deleted_campaign_id=relay.GlobalID("Campaign", str(result.campaign_id)))
