"""Campaign-account mutations: each turns its input into a command, calls the service, and builds its
payload from the service's result."""

from __future__ import annotations

import strawberry
from strawberry import relay

from outboundql.gql.base import lazy_class, mutation
from outboundql.gql.campaign_accounts.inputs import (
    AddAccountsToCampaignInput,
    ReviewCampaignAccountsInput,
    SetOverrideScoreInput,
    UpdateCampaignAccountInput,
)
from outboundql.gql.campaign_accounts.types import CampaignAccount, CampaignRef
from outboundql.gql.context import Info
from outboundql.gql.errors import UserError, user_errors
from outboundql.gql.guardrails import BlockedAccounts
from outboundql.services import campaign_accounts as service


@strawberry.type
class AddAccountsToCampaignPayload:
    campaign: CampaignRef | None = None
    added: int = 0
    already_present: int = 0
    blocked: list[BlockedAccounts] = strawberry.field(default_factory=list)
    not_found: list[relay.GlobalID] = strawberry.field(default_factory=list)
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type(description="The outcome for one id of a bulk change.")
class CampaignAccountResult:
    id: relay.GlobalID
    campaign_account: CampaignAccount | None
    errors: list[UserError]


@strawberry.type
class ReviewCampaignAccountsPayload:
    results: list[CampaignAccountResult] = strawberry.field(default_factory=list)
    changed_count: int = 0
    failed_count: int = 0
    errors: list[UserError] = strawberry.field(
        default_factory=list,
        description="Problems with the whole request, then each failed id's error (field "
        "`input.campaignAccountIds[i]`); the other ids are reviewed all the same.",
    )


@strawberry.type
class CampaignAccountPayload:
    campaign_account: CampaignAccount | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class CampaignAccountMutations:
    @mutation("Add accounts to a campaign through its goal's guardrails, in one pass for up to 10,000 accounts. "
              "Answers what was added, what was already there, and what was blocked, grouped by reason.")
    async def add_accounts_to_campaign(self, info: Info, input: AddAccountsToCampaignInput
                                       ) -> AddAccountsToCampaignPayload:
        result = await service.add_accounts(info.context.access, info.context.goals, input.to_command())
        asked = input.account_ids or []
        return AddAccountsToCampaignPayload(
            campaign=lazy_class(CampaignRef).from_model(result.campaign), added=result.added,
            already_present=result.already_present, blocked=[BlockedAccounts.from_group(g) for g in result.blocked],
            not_found=[asked[i] for i in result.not_found_at],
        )

    @mutation("Approve, reject or reset many campaign accounts; ids that fail are answered with why.")
    async def review_campaign_accounts(self, info: Info, input: ReviewCampaignAccountsInput
                                       ) -> ReviewCampaignAccountsPayload:
        result = await service.review(info.context.access, input.to_command())
        return ReviewCampaignAccountsPayload(
            results=[
                CampaignAccountResult(
                    id=gid, errors=user_errors(info, outcome.issues),
                    campaign_account=CampaignAccount.from_model(outcome.campaign_account)
                    if outcome.campaign_account is not None else None,
                )
                for gid, outcome in zip(input.campaign_account_ids, result.outcomes, strict=True)
            ],
            changed_count=result.changed_count, failed_count=result.failed_count,
            errors=user_errors(info, result.issues),
        )

    @mutation("Set or clear the score that supersedes the AI score in this campaign only.")
    async def set_override_score(self, info: Info, input: SetOverrideScoreInput) -> CampaignAccountPayload:
        result = await service.set_override_score(info.context.access, input.to_command())
        return CampaignAccountPayload(campaign_account=CampaignAccount.from_model(result.campaign_account))

    @mutation("Change tags, notes, the contact aimed at (its details are snapshotted) or the outreach status "
              "(forward only).")
    async def update_campaign_account(self, info: Info, input: UpdateCampaignAccountInput
                                      ) -> CampaignAccountPayload:
        result = await service.update_campaign_account(info.context.access, input.to_command())
        return CampaignAccountPayload(campaign_account=CampaignAccount.from_model(result.campaign_account))
