"""removeAccountsFromCampaign: named accounts leave a campaign, with the low-fit prune's protections."""

from __future__ import annotations

import strawberry
from strawberry import relay

from outboundql.gql.base import mutation, pk_of, pk_or_none
from outboundql.gql.campaigns import Campaign
from outboundql.gql.context import Info
from outboundql.gql.errors import UserError, user_errors
from outboundql.services import campaign_removal as service


@strawberry.input(description="Name the rows by campaign-account id, by account id, or both (at most 10,000 in all).")
class RemoveAccountsFromCampaignInput:
    campaign_id: relay.GlobalID = strawberry.field(description="The campaign the rows leave.")
    campaign_account_ids: list[relay.GlobalID] | None = strawberry.field(
        default=None, description="Rows of this campaign.")
    account_ids: list[relay.GlobalID] | None = strawberry.field(
        default=None, description="Accounts whose row in this campaign goes.")
    dry_run: bool = strawberry.field(default=False, description="Only count (and answer a confirmToken).")
    keep_approved: bool = strawberry.field(default=True, description="Keep approved rows.")
    keep_outreach_started: bool = strawberry.field(default=True,
                                                   description="Keep rows whose outreach has started.")
    confirm_token: str | None = strawberry.field(
        default=None, description="Optional: a dry run's token; the removal is then refused if the rows or their "
        "protections changed since.")

    def to_command(self) -> service.RemoveAccountsFromCampaign:
        return service.RemoveAccountsFromCampaign(
            campaign_id=pk_of(self.campaign_id, "Campaign", "campaign_id"),
            campaign_account_ids=[pk_or_none(g, "CampaignAccount") for g in self.campaign_account_ids or []],
            account_ids=[pk_or_none(g, "Account") for g in self.account_ids or []],
            dry_run=self.dry_run, keep_approved=self.keep_approved,
            keep_outreach_started=self.keep_outreach_started, confirm_token=self.confirm_token,
        )


@strawberry.type(description="The answer of removeAccountsFromCampaign: what went, what was kept and why.")
class RemoveAccountsFromCampaignPayload:
    campaign: Campaign | None = strawberry.field(
        default=None, description="The campaign, its counters as this change left them; null when refused.")
    would_remove: int = strawberry.field(default=0, description="Named rows that are not kept.")
    removed: int = strawberry.field(default=0, description="Rows removed (0 on a dry run).")
    kept_approved: int = strawberry.field(default=0, description="Named rows kept because approved.")
    kept_outreach_started: int = strawberry.field(
        default=0, description="Named rows kept because outreach started (and not counted as approved).")
    confirm_token: str | None = strawberry.field(
        default=None, description="From a dry run: confirms exactly the rows it counted.")
    not_found: list[relay.GlobalID] = strawberry.field(
        default_factory=list, description="Ids given that name no row of this campaign (nothing done for them).")
    errors: list[UserError] = strawberry.field(
        default_factory=list, description="Problems with the whole request (then nothing changed), or each id of "
        "`notFound` as NOT_FOUND on its position (`input.campaignAccountIds[i]`, `input.accountIds[i]`); the other "
        "rows are removed all the same.")


@strawberry.type
class CampaignRemovalMutations:
    @mutation("Remove named accounts from a campaign: their rows go with their tags, messages and attempts (pending "
              "ones cancelled); accounts and fit scores stay. Approved rows and rows whose outreach started are "
              "kept unless switched off. A dry run counts and writes nothing.")
    async def remove_accounts_from_campaign(self, info: Info, input: RemoveAccountsFromCampaignInput
                                            ) -> RemoveAccountsFromCampaignPayload:
        result = await service.remove_accounts(info.context.access, input.to_command())
        rows_at, accounts_at = result.not_found_at
        return RemoveAccountsFromCampaignPayload(
            campaign=Campaign.from_model(result.campaign), would_remove=result.would_remove, removed=result.removed,
            kept_approved=result.kept_approved, kept_outreach_started=result.kept_outreach_started,
            confirm_token=result.confirm_token,
            not_found=[(input.campaign_account_ids or [])[i] for i in rows_at]
            + [(input.account_ids or [])[i] for i in accounts_at],
            errors=user_errors(info, result.not_found_issues),
        )
