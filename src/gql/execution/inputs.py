"""Inputs of the execution fields and mutations, each turned into its service's command."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

import strawberry
from strawberry import relay

from outboundql import enums
from outboundql.errors import NotFound
from outboundql.gql.base import maybe, pk_of, pk_or_none
from outboundql.gql.enums import AttemptOutcome, AttemptStatus, Channel, ExecutionAction
from outboundql.gql.signals import SignalInput
from outboundql.services import attempts, execution
from outboundql.services.execution_queries import MAX_FILTER_IDS, AttemptsFilter

C = TypeVar("C")


@strawberry.input(description="All conditions must hold; lists match any of their values. The review queue: "
                  "`statuses: [AWAITING_APPROVAL]`.")
class OutreachAttemptFilter:
    statuses: list[AttemptStatus] | None = None
    channels: list[Channel] | None = None
    step: int | None = strawberry.field(default=None, description="1-based step of the cadence.")
    campaign_account_ids: list[relay.GlobalID] | None = strawberry.field(
        default=None, description=f"Attempts of these campaign accounts (at most {MAX_FILTER_IDS}).")
    due_before: datetime | None = strawberry.field(default=None, description="Due strictly before this time.")
    due_after: datetime | None = strawberry.field(default=None, description="Due at or after this time.")

    def to_command(self) -> AttemptsFilter:
        return AttemptsFilter(
            statuses=self.statuses, channels=self.channels, step=self.step,
            campaign_account_ids=None if self.campaign_account_ids is None
            else [pk_or_none(g, "CampaignAccount") for g in self.campaign_account_ids],
            due_before=self.due_before, due_after=self.due_after,
        )


@strawberry.input(description="The campaign whose execution changes.")
class CampaignExecutionInput:
    campaign_id: relay.GlobalID

    def to_command(self, command: Callable[[int], C]) -> C:
        """``command`` (GoLive, PauseCampaign, ResumeCampaign, StartOutreach or ExecuteApproved) of this campaign."""
        return command(pk_of(self.campaign_id, "Campaign", "campaign_id"))


@strawberry.input
class SetCampaignAccountExecutionInput:
    campaign_account_ids: list[relay.GlobalID] = strawberry.field(
        description="At most 1000 (OUTBOUNDQL_MAX_BULK_ITEMS).")
    action: ExecutionAction

    def to_command(self) -> execution.SetCampaignAccountExecution:
        return execution.SetCampaignAccountExecution(
            campaign_account_ids=tuple(pk_of(g, "CampaignAccount", f"campaign_account_ids[{i}]")
                                       for i, g in enumerate(self.campaign_account_ids)),
            action=enums.ExecutionAction(self.action),
        )


@strawberry.input(description="A change to a planned attempt made while approving it; only the fields given change.")
class AttemptEditInput:
    attempt_id: relay.GlobalID = strawberry.field(
        description="One of the request's attemptIds; any other id is NOT_FOUND.")
    subject: str | None = strawberry.field(default=strawberry.UNSET, description="Null clears it.")
    body: str | None = strawberry.field(default=strawberry.UNSET, description="Cannot be empty.")

    def to_command(self, index: int, approved: tuple[int, ...]) -> attempts.AttemptEdit:
        """The edit, its id resolved among the ``approved`` attempts of the request (like any id that names
        nothing the request can act on, another is NOT_FOUND)."""
        field = f"edits[{index}].attempt_id"
        attempt_id = pk_of(self.attempt_id, "OutreachAttempt", field)
        if attempt_id not in approved:
            raise NotFound("OutreachAttempt", field=field)
        return attempts.AttemptEdit(attempt_id=attempt_id, subject=maybe(self.subject), body=maybe(self.body))


def _attempt_ids(ids: list[relay.GlobalID]) -> tuple[int, ...]:
    return tuple(pk_of(g, "OutreachAttempt", f"attempt_ids[{i}]") for i, g in enumerate(ids))


@strawberry.input
class ApproveOutreachInput:
    attempt_ids: list[relay.GlobalID] = strawberry.field(
        description="Attempts AWAITING_APPROVAL; at most 1000 (OUTBOUNDQL_MAX_BULK_ITEMS).")
    edits: list[AttemptEditInput] | None = strawberry.field(default=None,
                                                            description="Subject or body changes of some of them.")

    def to_command(self) -> attempts.ApproveOutreach:
        ids = _attempt_ids(self.attempt_ids)
        return attempts.ApproveOutreach(attempt_ids=ids,
                                        edits=tuple(e.to_command(i, ids) for i, e in enumerate(self.edits or ())))


@strawberry.input
class RejectOutreachInput:
    attempt_ids: list[relay.GlobalID] = strawberry.field(
        description="Attempts AWAITING_APPROVAL; at most 1000 (OUTBOUNDQL_MAX_BULK_ITEMS).")

    def to_command(self) -> attempts.RejectOutreach:
        return attempts.RejectOutreach(attempt_ids=_attempt_ids(self.attempt_ids))


@strawberry.input(description="What an executed attempt (AWAITING_RESULT) came to.")
class RecordAttemptResultInput:
    attempt_id: relay.GlobalID
    outcome: AttemptOutcome = strawberry.field(
        description="A call: CONNECTED, VOICEMAIL, NO_ANSWER, BUSY or FAILED; a message: SENT, BOUNCED or FAILED.")
    goal_achieved: bool | None = strawberry.field(default=None,
                                                  description="Whether the campaign's goal was reached.")
    notes: str = strawberry.field(default="", description="What happened; a call's notes become its logged text.")
    signals: list[SignalInput] = strawberry.field(
        default_factory=list, description="At most 20, each of a kind of the campaign goal's `signalKinds`; logged "
        "with the message, confirmed as given.")

    def to_command(self) -> attempts.RecordAttemptResult:
        return attempts.RecordAttemptResult(
            attempt_id=pk_of(self.attempt_id, "OutreachAttempt", "attempt_id"),
            outcome=enums.AttemptOutcome(self.outcome),
            goal_achieved=self.goal_achieved, notes=self.notes, signals=tuple(s.to_value() for s in self.signals),
        )
