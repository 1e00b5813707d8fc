"""Campaign accounts: the per-campaign work on each account, and what changes it.

`types` (the GraphQL types), `inputs` (each with its service command), `mutations` and `queries` (the
connections behind `Campaign.accounts` and `Campaign.inbox`, and `explainGuardrails(campaignId)`)."""

from outboundql.gql.campaign_accounts.inputs import (
    AddAccountsToCampaignInput,
    CampaignAccountFilter,
    CampaignAccountOrder,
    CampaignAccountOrderField,
    ReviewCampaignAccountsInput,
    ReviewDecision,
    SetOverrideScoreInput,
    UpdateCampaignAccountInput,
)
from outboundql.gql.campaign_accounts.mutations import (
    AddAccountsToCampaignPayload,
    CampaignAccountMutations,
    CampaignAccountPayload,
    CampaignAccountResult,
    ReviewCampaignAccountsPayload,
)
from outboundql.gql.campaign_accounts.queries import (
    CampaignAccountQueries,
)
from outboundql.gql.campaign_accounts.types import (
    CampaignAccount,
    CampaignAccountConnection,
    FitScore,
    Justification,
    ThreadAttention,
)

__all__ = [
    "AddAccountsToCampaignInput",
    "AddAccountsToCampaignPayload",
    "CampaignAccount",
    "CampaignAccountConnection",
    "CampaignAccountFilter",
    "CampaignAccountMutations",
    "CampaignAccountOrder",
    "CampaignAccountOrderField",
    "CampaignAccountPayload",
    "CampaignAccountQueries",
    "CampaignAccountResult",
    "FitScore",
    "Justification",
    "ReviewCampaignAccountsInput",
    "ReviewCampaignAccountsPayload",
    "ReviewDecision",
    "SetOverrideScoreInput",
    "ThreadAttention",
    "UpdateCampaignAccountInput",
]
