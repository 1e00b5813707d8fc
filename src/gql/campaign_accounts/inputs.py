"""Inputs of the campaign-account fields and mutations, each turned into its service's command."""

from __future__ import annotations

import enum

import strawberry
from strawberry import relay

from outboundql import enums
from outboundql.gql.base import pk_of, pk_or_none
from outboundql.gql.enums import Band, Direction, ExecutionStatus, GoalOutcome, OutreachStatus, ReviewStatus
from outboundql.gql.guardrails import GuardrailOverrides
from outboundql.services import campaign_accounts as service
from outboundql.services.campaign_account_queries import CampaignAccountsFilter
from outboundql.services.commands import UNSET, Maybe


@strawberry.input(description="All conditions must hold; lists match any of their values.")
class CampaignAccountFilter:
    bands: list[Band] | None = strawberry.field(default=None, description="By effective score.")
    scored: bool | None = strawberry.field(default=None, description="Has an effective score (or not).")
    review_statuses: list[ReviewStatus] | None = None
    outreach_statuses: list[OutreachStatus] | None = None
    tags: list[str] | None = None
    search: str | None = strawberry.field(default=None, description="Part of the account's name or domain.")
    stale: bool | None = strawberry.field(default=None, description="Only scored under another goal (or not).")
    execution_statuses: list[ExecutionStatus] | None = strawberry.field(
        default=None, description="By execution status as shown: DISABLED and CAMPAIGN_PAUSED match the rows that "
        "show them, and a stored status only the rows that show it.")
    goal_outcomes: list[GoalOutcome] | None = None

    def to_command(self) -> CampaignAccountsFilter:
        return CampaignAccountsFilter(
            bands=self.bands, scored=self.scored, review_statuses=self.review_statuses,
            outreach_statuses=self.outreach_statuses, tags=self.tags, search=self.search, stale=self.stale,
            execution_statuses=self.execution_statuses, goal_outcomes=self.goal_outcomes,
        )


@strawberry.enum
class CampaignAccountOrderField(enum.Enum):
    EFFECTIVE_SCORE = "effective_score"
    NAME = "name"
    ADDED_AT = "added_at"


@strawberry.input(description="Unscored rows always come last when sorting by score.")
class CampaignAccountOrder:
    field: CampaignAccountOrderField = CampaignAccountOrderField.EFFECTIVE_SCORE
    direction: Direction = Direction.DESC

    def to_ordering(self) -> tuple[str, bool]:
        """The service's ordering: the field, and whether it runs descending."""
        return self.field.value, self.direction is Direction.DESC


@strawberry.input(description="Add by ids or by a saved filter (one of the two).")
class AddAccountsToCampaignInput:
    campaign_id: relay.GlobalID
    account_ids: list[relay.GlobalID] | None = strawberry.field(default=None, description="At most 10,000.")
    saved_filter_id: relay.GlobalID | None = None
    overrides: GuardrailOverrides | None = None

    def to_command(self) -> service.AddAccountsToCampaign:
        return service.AddAccountsToCampaign(
            campaign_id=pk_of(self.campaign_id, "Campaign", "campaign_id"),
            account_ids=None if self.account_ids is None else [pk_or_none(g, "Account") for g in self.account_ids],
            saved_filter_id=None if self.saved_filter_id is None else pk_of(self.saved_filter_id, "SavedFilter",
                                                                            "saved_filter_id"),
            overrides=(self.overrides or GuardrailOverrides()).flags(),
        )


@strawberry.enum
class ReviewDecision(enum.Enum):
    APPROVED = "approved"
    REJECTED = "rejected"
    PENDING = "pending"


@strawberry.input
class ReviewCampaignAccountsInput:
    campaign_account_ids: list[relay.GlobalID] = strawberry.field(description="At most 10,000.")
    decision: ReviewDecision

    def to_command(self) -> service.ReviewCampaignAccounts:
        return service.ReviewCampaignAccounts(
            campaign_account_ids=[pk_or_none(g, "CampaignAccount") for g in self.campaign_account_ids],
            decision=enums.ReviewStatus(self.decision.value),
        )


@strawberry.input
class SetOverrideScoreInput:
    campaign_account_id: relay.GlobalID
    score: float | None = strawberry.field(description="0–10 (one decimal kept); null clears it.")

    def to_command(self) -> service.SetOverrideScore:
        return service.SetOverrideScore(
            campaign_account_id=pk_of(self.campaign_account_id, "CampaignAccount", "campaign_account_id"),
            score=self.score,
        )


@strawberry.input(description="Only the fields given change.")
class UpdateCampaignAccountInput:
    id: relay.GlobalID
    tags: list[str] | None = strawberry.UNSET
    notes: str | None = strawberry.UNSET
    contact_id: relay.GlobalID | None = strawberry.field(default=strawberry.UNSET,
                                                         description="A contact of this account; null clears it.")
    outreach_status: OutreachStatus | None = strawberry.field(default=strawberry.UNSET,
                                                              description="Only forward moves are accepted.")
    goal_outcome: GoalOutcome | None = strawberry.field(
        default=strawberry.UNSET, description="ACHIEVED or LOST ends the row's outreach plan (its pending attempts "
        "are cancelled); OPEN reopens the outcome only.")

    def to_command(self) -> service.UpdateCampaignAccount:
        ca_id = pk_of(self.id, "CampaignAccount", "id")
        contact_id: Maybe[int | None] = UNSET
        if self.contact_id is not strawberry.UNSET:
            contact_id = None if self.contact_id is None else pk_of(self.contact_id, "Contact", "contact_id")
        return service.UpdateCampaignAccount(
            id=ca_id,
            tags=UNSET if self.tags is strawberry.UNSET else self.tags,
            notes=UNSET if self.notes is strawberry.UNSET else self.notes,
            contact_id=contact_id,
            outreach_status=UNSET if self.outreach_status is strawberry.UNSET else self.outreach_status,
            goal_outcome=UNSET if self.goal_outcome is strawberry.UNSET else self.goal_outcome,
        )
