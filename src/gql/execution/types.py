"""Execution as GraphQL types: outreach attempts, a campaign account's execution, a campaign's counts."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry import relay

from outboundql import models
from outboundql.cadence.settings import Cadence
from outboundql.enums import FINAL_EXECUTION
from outboundql.gql.accounts import Contact
from outboundql.gql.base import ProjectNode, lazy_class
from outboundql.gql.context import Info
from outboundql.gql.enums import AttemptOutcome, AttemptStatus, Channel, ExecutionStatus, GoalOutcome
from outboundql.gql.messages import Message
from outboundql.gql.pagination import CountedConnection, max_page_size
from outboundql.services import runtime
from outboundql.services.execution_queries import ExecutionTally, max_attempts, shown_status

if TYPE_CHECKING:
    from outboundql.gql.campaign_accounts import CampaignAccount
    from outboundql.gql.campaigns import Campaign

# gql.campaigns and gql.campaign_accounts import this module while they load (their types show attempts and
# counts), so their types are named lazily and resolved when a resolver first builds one.
CampaignRef = Annotated["Campaign", strawberry.lazy("outboundql.gql.campaigns")]
CampaignAccountRef = Annotated["CampaignAccount", strawberry.lazy("outboundql.gql.campaign_accounts")]


@strawberry.type(description="One planned or made attempt of a campaign account's cadence: a step's outreach to "
                 "one contact through one channel.")
class OutreachAttempt(ProjectNode):
    id: relay.NodeID[int]
    channel: Channel
    step: int = strawberry.field(description="1-based position of the step in the campaign's cadence.")
    attempt_number: int = strawberry.field(description="1-based, per step and contact.")
    status: AttemptStatus
    due_at: datetime = strawberry.field(description="When it goes out (inside the campaign's window).")
    claimed_at: datetime | None = strawberry.field(description="When a worker took it to execute it.")
    executed_at: datetime | None = strawberry.field(description="When it was delivered to the channel or a person.")
    subject: str | None = strawberry.field(description="Planned (and, once executed, used) subject.")
    body: str = strawberry.field(description="Planned (and, once executed, used) text.")
    address: str | None = strawberry.field(description="The e-mail address, phone number… it goes to.")
    outcome: AttemptOutcome | None = strawberry.field(description="What it came to, once its result is recorded.")
    goal_achieved: bool | None = strawberry.field(description="Whether the result reached the campaign's goal.")
    notes: str = strawberry.field(description="Notes recorded with the result.")
    error: str | None = strawberry.field(description="Why delivery failed, when it did; why it waits, when its "
                                         "channel deferred it (a sending cap).")
    provider_id: str | None = strawberry.field(description="What the channel's provider calls it (an e-mail's "
                                               "Message-ID, a call's id); null for the log channel.")
    created_at: datetime = strawberry.field(description="When it was planned.")
    row: strawberry.Private[models.OutreachAttempt]
    node_model = models.OutreachAttempt

    @strawberry.field(description="The message its execution logged; null until then.")
    async def message(self, info: Info) -> Message | None:
        if self.row.message_id is None:
            return None
        row = await info.context.loaders.message_by_id.load(self.row.message_id)
        return Message.from_model(row) if row else None

    @strawberry.field(description="The person it reaches; null when it goes to the account's own address.")
    async def contact(self, info: Info) -> Contact | None:
        if self.row.contact_id is None:
            return None
        row = await info.context.loaders.contact_by_id.load(self.row.contact_id)
        return Contact.from_model(row) if row else None

    @strawberry.field(description="The campaign account whose plan it belongs to.")
    async def campaign_account(self, info: Info) -> CampaignAccountRef:
        row = await info.context.loaders.campaign_account_by_id.load(self.row.campaign_account_id)
        campaign_account: type[CampaignAccount] = lazy_class(CampaignAccountRef)
        return campaign_account.from_model(row)

    @strawberry.field
    async def campaign(self, info: Info) -> CampaignRef:
        campaign: type[Campaign] = lazy_class(CampaignRef)
        return campaign.from_model(await info.context.loaders.campaign_by_id.load(self.row.campaign_id))


@strawberry.type
class OutreachAttemptConnection(CountedConnection[OutreachAttempt]):
    @classmethod
    def resolve_node(cls, node: models.OutreachAttempt, *, info: Info, **kwargs: Any) -> OutreachAttempt:
        return OutreachAttempt.from_model(node)


@strawberry.type(description="How many of a campaign's accounts show one execution status.")
class ExecutionCount:
    status: ExecutionStatus
    count: int


@strawberry.type(description="How many of a campaign's accounts have one goal outcome.")
class GoalOutcomeCount:
    outcome: GoalOutcome
    count: int


def execution_counts(tally: ExecutionTally) -> list[ExecutionCount]:
    return [ExecutionCount(status=status, count=n) for status, n in tally.statuses]


def goal_outcome_counts(tally: ExecutionTally) -> list[GoalOutcomeCount]:
    return [GoalOutcomeCount(outcome=outcome, count=n) for outcome, n in tally.goal_outcomes]


@strawberry.type(description="Where a campaign account's outreach plan stands.")
class CampaignAccountExecution:
    status: ExecutionStatus = strawberry.field(
        description="As shown: DISABLED when the row is paused on its own, CAMPAIGN_PAUSED while the campaign is "
        "paused, else the plan's own status.")
    attempts_made: int = strawberry.field(description="Attempts executed so far.")
    max_attempts: int = strawberry.field(
        description="Attempts the plan allows: the cadence's retry maxAttempts for each step (\"4/10\").")
    paused_until: datetime | None = strawberry.field(
        description="Until when an out-of-office reply pauses the plan: no attempt is due before it, then the plan "
        "resumes at the window's next opening (in the recipient's zone); null when not paused.")
    campaign_account_id: strawberry.Private[int]
    plan_round: strawberry.Private[int]
    finished: strawberry.Private[bool]

    @strawberry.field(description="The earliest pending attempt of the current plan (awaiting approval, scheduled, "
                      "executing or awaiting its result): its channel, due time, subject and body; null when none is "
                      "or the plan ended (an attempt made before still takes its result: see `attempts`).")
    async def next_attempt(self, info: Info) -> OutreachAttempt | None:
        if self.finished:
            return None
        row = await info.context.loaders.next_attempt_by_campaign_account_id.load(self.campaign_account_id)
        return OutreachAttempt.from_model(row) if row and row.plan_round == self.plan_round else None


async def execution_of(info: Info, row: models.CampaignAccount) -> CampaignAccountExecution:
    """The execution of campaign account ``row``, read with its campaign (through the page's loader)."""
    campaign = await info.context.loaders.campaign_by_id.load(row.campaign_id)
    assert campaign is not None
    return CampaignAccountExecution(
        status=shown_status(row, campaign), attempts_made=row.attempts_made,
        max_attempts=max_attempts(Cadence.from_stored(campaign.cadence)), campaign_account_id=row.id,
        plan_round=row.plan_round, finished=row.execution_status in FINAL_EXECUTION,
        paused_until=row.paused_until if row.paused_until and row.paused_until > runtime.now() else None,
    )


async def attempts_of(info: Info, row: models.CampaignAccount, limit: int) -> list[OutreachAttempt]:
    """The ``limit`` most recent attempts of campaign account ``row`` (capped by the page size), newest first."""
    rows = await info.context.loaders.attempts_by_campaign_account_id.load(row.id)
    return [OutreachAttempt.from_model(a) for a in rows[:max(0, min(limit, max_page_size(info)))]]
