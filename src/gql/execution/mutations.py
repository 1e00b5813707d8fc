"""Execution mutations: going live, pausing and resuming, starting outreach, a row's plan, manual review and
recording results. Each resolver translates: ``input.to_command()`` → service → payload."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import strawberry

from outboundql.gql.base import lazy_class, mutation
from outboundql.gql.context import Info
from outboundql.gql.errors import UserError
from outboundql.gql.execution.inputs import (
    ApproveOutreachInput,
    CampaignExecutionInput,
    RecordAttemptResultInput,
    RejectOutreachInput,
    SetCampaignAccountExecutionInput,
)
from outboundql.gql.execution.types import OutreachAttempt
from outboundql.services import attempts, execution

if TYPE_CHECKING:
    from outboundql import models
    from outboundql.gql.campaign_accounts import CampaignAccount
    from outboundql.gql.campaigns import Campaign

# gql.campaigns and gql.campaign_accounts import this package while they load: their types are named lazily.
CampaignRef = Annotated["Campaign", strawberry.lazy("outboundql.gql.campaigns")]
CampaignAccountRef = Annotated["CampaignAccount", strawberry.lazy("outboundql.gql.campaign_accounts")]


@strawberry.type
class CampaignExecutionPayload:
    campaign: CampaignRef | None = None
    planned: int = strawberry.field(default=0, description="Rows whose first attempt this request planned (more "
                                    "are planned by the scheduler).")
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class SetCampaignAccountExecutionPayload:
    campaign_accounts: list[CampaignAccountRef] | None = strawberry.field(
        default=None, description="In the order of the ids given; null when nothing changed (see errors).")
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class OutreachAttemptsPayload:
    attempts: list[OutreachAttempt] | None = strawberry.field(
        default=None, description="In the order of the ids given; null when nothing changed (see errors).")
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ExecuteApprovedPayload:
    campaign: CampaignRef | None = None
    attempts: list[OutreachAttempt] | None = strawberry.field(
        default=None, description="The approved attempts made due now; null when the request failed (see errors).")
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class RecordAttemptResultPayload:
    attempt: OutreachAttempt | None = None
    campaign_account: CampaignAccountRef | None = None
    next_attempt: OutreachAttempt | None = strawberry.field(
        default=None, description="What the plan made next (a retry, the next contact or step), if anything.")
    errors: list[UserError] = strawberry.field(default_factory=list)


def _campaign(row: models.Campaign) -> Campaign:
    campaign: type[Campaign] = lazy_class(CampaignRef)
    return campaign.from_model(row)


def _changed(result: execution.ExecutionChanged) -> CampaignExecutionPayload:
    return CampaignExecutionPayload(campaign=_campaign(result.campaign), planned=result.planned)


@strawberry.type
class ExecutionMutations:
    @mutation("Take a campaign live (once: a second call is a CONFLICT). Refused as data when its cadence has no "
              "step, a SCHEDULED cadence has no start time, or no row is eligible. ON_ADD starts outreach now, "
              "SCHEDULED at startAt, MANUAL at each startOutreach.")
    async def go_live(self, info: Info, input: CampaignExecutionInput) -> CampaignExecutionPayload:
        return _changed(await execution.go_live(info.context.access, input.to_command(execution.GoLive)))

    @mutation("Pause a live campaign: nothing is executed until it resumes; every planned attempt and every row's "
              "progress is kept.")
    async def pause_campaign(self, info: Info, input: CampaignExecutionInput) -> CampaignExecutionPayload:
        return _changed(await execution.pause_campaign(info.context.access, input.to_command(execution.PauseCampaign)))

    @mutation("Resume a paused campaign: what fell due meanwhile goes out, inside the window.")
    async def resume_campaign(self, info: Info, input: CampaignExecutionInput) -> CampaignExecutionPayload:
        return _changed(await execution.resume_campaign(info.context.access,
                                                        input.to_command(execution.ResumeCampaign)))

    @mutation("Plan every eligible row of a live campaign not planned yet, due now (at the window's next "
              "opening): how a MANUAL cadence starts.")
    async def start_outreach(self, info: Info, input: CampaignExecutionInput) -> CampaignExecutionPayload:
        return _changed(await execution.start_outreach(info.context.access,
                                                       input.to_command(execution.StartOutreach)))

    @mutation("Act on campaign accounts' plans one by one: DISABLE (skipped until enabled; the plan is kept), "
              "ENABLE, RESET (planned again from the first step; the history is kept) or COMPLETE (nothing more "
              "is attempted).")
    async def set_campaign_account_execution(self, info: Info, input: SetCampaignAccountExecutionInput
                                             ) -> SetCampaignAccountExecutionPayload:
        result = await execution.set_campaign_account_execution(info.context.access, input.to_command())
        campaign_account: type[CampaignAccount] = lazy_class(CampaignAccountRef)
        return SetCampaignAccountExecutionPayload(
            campaign_accounts=[campaign_account.from_model(r) for r in result.campaign_accounts])

    @mutation("Approve planned attempts (each AWAITING_APPROVAL), optionally editing their subject and body: they "
              "go out when due, inside the window.")
    async def approve_outreach(self, info: Info, input: ApproveOutreachInput) -> OutreachAttemptsPayload:
        result = await attempts.approve_outreach(info.context.access, input.to_command())
        return OutreachAttemptsPayload(attempts=[OutreachAttempt.from_model(a) for a in result.attempts])

    @mutation("Reject planned attempts (each AWAITING_APPROVAL): nothing is sent for them, and each row's plan moves "
              "on as after a finished step.")
    async def reject_outreach(self, info: Info, input: RejectOutreachInput) -> OutreachAttemptsPayload:
        result = await attempts.reject_outreach(info.context.access, input.to_command())
        return OutreachAttemptsPayload(attempts=[OutreachAttempt.from_model(a) for a in result.attempts])

    @mutation("Execute all approved: every approved attempt of the campaign still waiting for its time becomes due "
              "now (executed at the scheduler's next tick, inside the window).")
    async def execute_approved(self, info: Info, input: CampaignExecutionInput) -> ExecuteApprovedPayload:
        result = await attempts.execute_approved(info.context.access, input.to_command(attempts.ExecuteApproved))
        return ExecuteApprovedPayload(campaign=_campaign(result.campaign),
                                      attempts=[OutreachAttempt.from_model(a) for a in result.attempts])

    @mutation("Record what an executed attempt (AWAITING_RESULT) came to: its message is logged, and the retry "
              "policy plans what comes next (a retry, the next contact or step) or ends the row's plan. Recording "
              "the same result again answers the first.")
    async def record_attempt_result(self, info: Info, input: RecordAttemptResultInput) -> RecordAttemptResultPayload:
        result = await attempts.record_attempt_result(info.context.access, input.to_command())
        campaign_account: type[CampaignAccount] = lazy_class(CampaignAccountRef)
        return RecordAttemptResultPayload(
            attempt=OutreachAttempt.from_model(result.attempt),
            campaign_account=campaign_account.from_model(result.campaign_account),
            next_attempt=OutreachAttempt.from_model(result.next_attempt) if result.next_attempt else None,
        )
