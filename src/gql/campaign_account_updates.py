"""updateCampaignAccounts: one change (outreach status, review status, goal outcome, tags) for many campaign accounts,
answering the rows changed and the rows that failed, each with why."""

from __future__ import annotations

import strawberry
from strawberry import relay

from outboundql import enums
from outboundql.gql.base import mutation, pk_or_none
from outboundql.gql.campaign_accounts import CampaignAccount
from outboundql.gql.context import Info
from outboundql.gql.enums import GoalOutcome, OutreachStatus, ReviewStatus
from outboundql.gql.errors import UserError, UserErrorCode, user_errors
from outboundql.services import campaign_account_updates as service


@strawberry.input(description="The same change for every row; fields left out (or null) stay as they are.")
class UpdateCampaignAccountsInput:
    campaign_account_ids: list[relay.GlobalID] = strawberry.field(
        description="The rows to change, at most 1000 (the server's bulk limit).")
    outreach_status: OutreachStatus | None = strawberry.field(
        default=None, description="Only forward moves are accepted: a row further along fails alone.")
    review_status: ReviewStatus | None = strawberry.field(
        default=None, description="APPROVED, REJECTED or PENDING; a row no longer eligible is unplanned.")
    goal_outcome: GoalOutcome | None = strawberry.field(
        default=None, description="ACHIEVED or LOST ends each row's outreach plan (pending attempts cancelled); "
        "OPEN reopens the outcome only.")
    add_tags: list[str] | None = strawberry.field(default=None, description="Tags added to each row (at most 50).")
    remove_tags: list[str] | None = strawberry.field(default=None, description="Tags taken off each row.")

    def to_command(self) -> service.UpdateCampaignAccounts:
        return service.UpdateCampaignAccounts(
            campaign_account_ids=[pk_or_none(g, "CampaignAccount") for g in self.campaign_account_ids],
            outreach_status=None if self.outreach_status is None else enums.OutreachStatus(self.outreach_status),
            review_status=None if self.review_status is None else enums.ReviewStatus(self.review_status),
            goal_outcome=None if self.goal_outcome is None else enums.GoalOutcome(self.goal_outcome),
            add_tags=self.add_tags or (), remove_tags=self.remove_tags or (),
        )


@strawberry.type(description="A row of a bulk change that did not change, and why.")
class CampaignAccountFailure:
    id: relay.GlobalID = strawberry.field(description="The id as given.")
    index: int = strawberry.field(description="Its position in the input list (first occurrence).")
    code: UserErrorCode = strawberry.field(
        description="NOT_FOUND (no such row, or another project's), INVALID (the row cannot take the change: a "
        "backward outreach move, an archived campaign, too many tags).")
    message: str = strawberry.field(description="A sentence for people, saying why.")


@strawberry.type(description="The answer of updateCampaignAccounts: the rows changed, and the rows that failed with "
                 "why.")
class UpdateCampaignAccountsPayload:
    updated: list[CampaignAccount] = strawberry.field(
        default_factory=list, description="The rows that changed, as they are now, in request order.")
    updated_count: int = strawberry.field(default=0, description="How many rows changed.")
    unchanged_count: int = strawberry.field(default=0, description="Rows that already were as asked.")
    failed: list[CampaignAccountFailure] = strawberry.field(
        default_factory=list, description="Rows left as they were, each with why; the others changed all the same.")
    errors: list[UserError] = strawberry.field(
        default_factory=list, description="Problems with the whole request (nothing to change, no ids or too many, a "
        "tag both added and removed: then nothing changed), then each failed row's error (field "
        "`input.campaignAccountIds[i]`), as in `failed`; the other rows changed all the same.")


@strawberry.type
class CampaignAccountUpdateMutations:
    @mutation("Change the outreach status, review status, goal outcome or tags of many campaign accounts at once. "
              "Rows that cannot take the change (not found, archived campaign, a backward outreach move) fail alone, "
              "with why; the others change, counters moving exactly, each campaign audited once.")
    async def update_campaign_accounts(self, info: Info, input: UpdateCampaignAccountsInput
                                       ) -> UpdateCampaignAccountsPayload:
        result = await service.update_campaign_accounts(info.context.access, input.to_command())
        return UpdateCampaignAccountsPayload(
            updated=[CampaignAccount.from_model(row) for row in result.updated], updated_count=len(result.updated),
            unchanged_count=result.unchanged,
            failed=[CampaignAccountFailure(id=input.campaign_account_ids[f.index], index=f.index,
                                           code=UserErrorCode[f.issue.code], message=f.issue.message)
                    for f in result.failed],
            errors=user_errors(info, [f.issue for f in result.failed]),
        )
