"""A campaign's cadence settings: the `Cadence` type `Campaign.cadence` shows, and `updateCadence`."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry import relay

from outboundql.cadence import rules
from outboundql.cadence import settings as cadence_settings
from outboundql.gql.base import lazy_class, maybe, mutation, pk_of
from outboundql.gql.context import Info
from outboundql.gql.enums import CampaignType, Channel, Eligibility, ExecutionMode, RetryOutcome, Weekday
from outboundql.gql.errors import UserError
from outboundql.services import cadence as cadence_service

if TYPE_CHECKING:
    from outboundql.gql.campaigns import Campaign

# gql.campaigns.types imports this module (Campaign.cadence), so the payload names Campaign lazily.
CampaignRef = Annotated["Campaign", strawberry.lazy("outboundql.gql.campaigns")]

_TIME_OF_DAY = "A time of day, \"HH:MM\" (24 h, 00:00–23:59; \"9:00\" is read as \"09:00\")."


@strawberry.type(description="One step of a cadence: how and when it goes out, and optional templates of what it "
                 "says (else the drafter writes it). Templates may use {{account.name}}, {{contact.name}}, "
                 "{{contact.first_name}}, {{product.name}} and {{sender.name}}.")
class CadenceStep:
    channel: Channel
    delay_minutes: int = strawberry.field(description="Minutes after the previous step (the first step: after "
                                          "outreach starts), 0–43200 (30 days).")
    intent: str | None = strawberry.field(description="What the step is for, for the drafter.")
    subject: str | None = strawberry.field(description="E-mail steps only.")
    body: str | None
    manual_review: bool | None = strawberry.field(description="Whether this step's attempts wait for approval; "
                                                  "null: the campaign's `manualReview`.")

    @classmethod
    def from_value(cls, step: cadence_settings.Step) -> CadenceStep:
        return cls(channel=step.channel, delay_minutes=step.delay_minutes, intent=step.intent, subject=step.subject,
                   body=step.body, manual_review=step.manual_review)


@strawberry.type(description="When attempts may be made: hours of the allowed days in a time zone. An end before "
                 "the start crosses midnight (the day named is the day the window opens); an end equal to the "
                 "start is the whole day.")
class CadenceWindow:
    start_time: str = strawberry.field(description=_TIME_OF_DAY)
    end_time: str = strawberry.field(description=_TIME_OF_DAY)
    days: list[Weekday] = strawberry.field(description="Allowed days, in week order.")
    time_zone: str = strawberry.field(description="IANA time zone name, e.g. `Europe/Berlin`.")
    recipient_local_time: bool = strawberry.field(
        description="Apply the window in the contact's time zone, else the account's, else one of the account's "
        "country; `timeZone` when none is known.")

    @classmethod
    def from_value(cls, window: cadence_settings.Window) -> CadenceWindow:
        return cls(start_time=window.start_time.strftime("%H:%M"), end_time=window.end_time.strftime("%H:%M"),
                   days=list(window.days), time_zone=window.time_zone,
                   recipient_local_time=window.recipient_local_time)


@strawberry.type(description="How unsuccessful attempts are retried.")
class RetryPolicy:
    max_attempts: int = strawberry.field(description="Attempts per contact and step, 1–5.")
    interval_minutes: int = strawberry.field(description="Minutes between attempts, 10–4320 (3 days); the next "
                                             "attempt waits for the window.")
    retry_on: list[RetryOutcome] = strawberry.field(description="Outcomes that lead to another attempt.")
    until_goal_achieved: bool = strawberry.field(
        description="Also retry a CONNECTED attempt whose goal was not achieved (within `maxAttempts`).")

    @classmethod
    def from_value(cls, retry: cadence_settings.Retry) -> RetryPolicy:
        return cls(max_attempts=retry.max_attempts, interval_minutes=retry.interval_minutes,
                   retry_on=list(retry.retry_on), until_goal_achieved=retry.until_goal_achieved)


@strawberry.type(description="How a campaign's outreach is planned and executed.")
class Cadence:
    campaign_type: CampaignType
    steps: list[CadenceStep] = strawberry.field(description="In order; none until configured (goLive needs one).")
    window: CadenceWindow
    retry: RetryPolicy
    execution_mode: ExecutionMode
    start_at: datetime | None = strawberry.field(description="When a SCHEDULED campaign starts (UTC).")
    end_at: datetime | None = strawberry.field(description="After it nothing new is executed (UTC).")
    manual_review: bool = strawberry.field(description="Planned attempts wait for a person's approval (a step may "
                                           "say otherwise).")
    eligibility: Eligibility

    @classmethod
    def from_value(cls, cadence: cadence_settings.Cadence) -> Cadence:
        return cls(campaign_type=cadence.campaign_type, steps=[CadenceStep.from_value(s) for s in cadence.steps],
                   window=CadenceWindow.from_value(cadence.window), retry=RetryPolicy.from_value(cadence.retry),
                   execution_mode=cadence.execution_mode, start_at=cadence.start_at, end_at=cadence.end_at,
                   manual_review=cadence.manual_review, eligibility=cadence.eligibility)

    @classmethod
    def from_stored(cls, data: dict[str, Any] | None) -> Cadence:
        """The type of a campaign's stored ``cadence`` column."""
        return cls.from_value(cadence_settings.Cadence.from_stored(data))


@strawberry.input(description="One step, given whole.")
class CadenceStepInput:
    channel: Channel
    delay_minutes: int = strawberry.field(default=0, description="0–43200 minutes after the previous step.")
    intent: str | None = None
    subject: str | None = strawberry.field(default=None, description="E-mail steps only; at most 500 characters.")
    body: str | None = None
    manual_review: bool | None = strawberry.field(default=None, description="Null: the campaign's.")

    def to_value(self) -> cadence_settings.Step:
        return cadence_settings.Step(channel=self.channel, delay_minutes=self.delay_minutes, intent=self.intent,
                                     subject=self.subject, body=self.body, manual_review=self.manual_review)


@strawberry.input(description="Only the sub-fields given change.")
class CadenceWindowInput:
    start_time: str | None = strawberry.field(default=strawberry.UNSET, description=_TIME_OF_DAY)
    end_time: str | None = strawberry.field(default=strawberry.UNSET, description=_TIME_OF_DAY)
    days: list[Weekday] | None = strawberry.field(default=strawberry.UNSET,
                                                  description="At least one; duplicates count once.")
    time_zone: str | None = strawberry.field(default=strawberry.UNSET, description="IANA name, e.g. `Europe/Berlin`.")
    recipient_local_time: bool | None = strawberry.UNSET

    def to_change(self) -> rules.WindowChange:
        return rules.WindowChange(start_time=maybe(self.start_time), end_time=maybe(self.end_time),
                                  days=maybe(self.days), time_zone=maybe(self.time_zone),
                                  recipient_local_time=maybe(self.recipient_local_time))


@strawberry.input(description="Only the sub-fields given change.")
class RetryPolicyInput:
    max_attempts: int | None = strawberry.field(default=strawberry.UNSET, description="1–5.")
    interval_minutes: int | None = strawberry.field(default=strawberry.UNSET, description="10–4320.")
    retry_on: list[RetryOutcome] | None = strawberry.field(default=strawberry.UNSET,
                                                           description="May be empty; duplicates count once.")
    until_goal_achieved: bool | None = strawberry.UNSET

    def to_change(self) -> rules.RetryChange:
        return rules.RetryChange(max_attempts=maybe(self.max_attempts), interval_minutes=maybe(self.interval_minutes),
                                 retry_on=maybe(self.retry_on), until_goal_achieved=maybe(self.until_goal_achieved))


@strawberry.input(description="Only the fields given change (a null one is kept, except `startAt` and `endAt`, "
                  "which null clears). `steps` replaces the whole list; `window` and `retry` change the sub-fields "
                  "they give. A date-time without an offset is UTC.")
class UpdateCadenceInput:
    campaign_id: relay.GlobalID
    campaign_type: CampaignType | None = strawberry.UNSET
    steps: list[CadenceStepInput] | None = strawberry.field(
        default=strawberry.UNSET, description="At most 10; ONE_TIME: at most one.")
    window: CadenceWindowInput | None = strawberry.UNSET
    retry: RetryPolicyInput | None = strawberry.UNSET
    execution_mode: ExecutionMode | None = strawberry.UNSET
    start_at: datetime | None = strawberry.field(default=strawberry.UNSET,
                                                 description="Required when SCHEDULED; null clears it.")
    end_at: datetime | None = strawberry.field(default=strawberry.UNSET,
                                               description="After startAt; null clears it.")
    manual_review: bool | None = strawberry.UNSET
    eligibility: Eligibility | None = strawberry.UNSET

    def to_command(self) -> cadence_service.UpdateCadence:
        change = rules.CadenceChange(
            campaign_type=maybe(self.campaign_type),
            steps=maybe(self.steps, lambda steps: tuple(s.to_value() for s in steps)),
            window=maybe(self.window, CadenceWindowInput.to_change),
            retry=maybe(self.retry, RetryPolicyInput.to_change),
            execution_mode=maybe(self.execution_mode), start_at=maybe(self.start_at), end_at=maybe(self.end_at),
            manual_review=maybe(self.manual_review), eligibility=maybe(self.eligibility),
        )
        return cadence_service.UpdateCadence(campaign_id=pk_of(self.campaign_id, "Campaign", "campaign_id"),
                                             change=change)


@strawberry.type
class UpdateCadencePayload:
    campaign: CampaignRef | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class CadenceMutations:
    @mutation("Change a campaign's cadence: steps, allowed window, retry policy, execution mode, manual review "
              "and which rows are eligible. On a live campaign it applies to what is planned from then on.")
    async def update_cadence(self, info: Info, input: UpdateCadenceInput) -> UpdateCadencePayload:
        result = await cadence_service.update_cadence(info.context.access, input.to_command())
        campaign: type[Campaign] = lazy_class(CampaignRef)
        return UpdateCadencePayload(campaign=campaign.from_model(result.campaign))
