"""Campaigns: one outbound initiative for one product and one goal.

``types`` (Campaign and what it shows), ``inputs`` (filter, order, mutation inputs), ``queries`` (the
project's campaign list), ``mutations`` (payloads and `CampaignMutations`). Other modules import the
names below from this package, or point at it with ``strawberry.lazy("outboundql.gql.campaigns")``.
"""

from outboundql.gql.campaigns.inputs import (
    AudienceInput,
    CampaignFilter,
    CampaignIdInput,
    CampaignOrder,
    CampaignOrderField,
    CreateCampaignInput,
    DeleteCampaignInput,
    UpdateCampaignInput,
)
from outboundql.gql.campaigns.mutations import CampaignMutations, CampaignPayload, DeleteCampaignPayload
from outboundql.gql.campaigns.queries import resolve_campaigns
from outboundql.gql.campaigns.types import Audience, Campaign, CampaignConnection, ScoreBucket, ScoringProgress

__all__ = [
    "Audience",
    "AudienceInput",
    "Campaign",
    "CampaignConnection",
    "CampaignFilter",
    "CampaignIdInput",
    "CampaignMutations",
    "CampaignOrder",
    "CampaignOrderField",
    "CampaignPayload",
    "CreateCampaignInput",
    "DeleteCampaignInput",
    "DeleteCampaignPayload",
    "ScoreBucket",
    "ScoringProgress",
    "UpdateCampaignInput",
    "resolve_campaigns",
]
