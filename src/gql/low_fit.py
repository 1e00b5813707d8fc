"""removeLowFitAccounts: the two-step removal of a campaign's mismatch rows (dry run, then confirm)."""

from __future__ import annotations

import strawberry
from strawberry import relay

from outboundql.gql.base import mutation, pk_of
from outboundql.gql.campaigns import Campaign
from outboundql.gql.context import Info
from outboundql.gql.errors import UserError
from outboundql.services import low_fit


@strawberry.input(description="Run a dry run first; confirm with `dryRun: false` and the dry run's token.")
class RemoveLowFitAccountsInput:
    campaign_id: relay.GlobalID
    dry_run: bool = strawberry.field(default=True, description="Only count, and answer a confirmToken.")
    keep_approved: bool = strawberry.field(default=True, description="Keep approved rows.")
    keep_outreach_started: bool = strawberry.field(default=True,
                                                   description="Keep rows whose outreach has started.")
    confirm_token: str | None = strawberry.field(
        default=None, description="The dry run's token (same options); needed when `dryRun` is false.")

    def to_command(self) -> low_fit.RemoveLowFitAccounts:
        return low_fit.RemoveLowFitAccounts(
            campaign_id=pk_of(self.campaign_id, "Campaign", "campaign_id"), dry_run=self.dry_run,
            keep_approved=self.keep_approved, keep_outreach_started=self.keep_outreach_started,
            confirm_token=self.confirm_token,
        )


@strawberry.type
class RemoveLowFitAccountsPayload:
    campaign: Campaign | None = None
    would_remove: int = strawberry.field(default=0, description="Rows in the mismatch band that are not kept.")
    removed: int = strawberry.field(default=0, description="Rows removed (0 on a dry run).")
    kept_approved: int = strawberry.field(default=0, description="Mismatch rows kept because approved.")
    kept_outreach_started: int = strawberry.field(
        default=0, description="Mismatch rows kept because outreach started (and not counted as approved).")
    confirm_token: str | None = strawberry.field(
        default=None, description="From a dry run: confirms exactly the rows it counted.")
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class LowFitMutations:
    @mutation("Remove the campaign's accounts in the mismatch band (effective score below 5; unscored rows stay), "
              "in two steps: a dry run answers the counts and a confirmToken; confirming with it removes exactly "
              "that set, or is refused when the campaign changed since. Approved rows and rows whose outreach "
              "started are kept unless switched off. Accounts and fit scores are never deleted.")
    async def remove_low_fit_accounts(self, info: Info, input: RemoveLowFitAccountsInput
                                      ) -> RemoveLowFitAccountsPayload:
        result = await low_fit.remove_low_fit(info.context.access, input.to_command())
        return RemoveLowFitAccountsPayload(
            campaign=Campaign.from_model(result.campaign), would_remove=result.would_remove, removed=result.removed,
            kept_approved=result.kept_approved, kept_outreach_started=result.kept_outreach_started,
            confirm_token=result.confirm_token,
        )
