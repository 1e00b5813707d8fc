"""Running a campaign's outreach: going live (one-way), pausing and resuming, starting outreach by hand, and
what a person does to one row's plan (disable, enable, reset, complete).

Execution has its own state, separate from the operator's status hint: ``not_live`` → ``live`` ⇄ ``paused``;
archiving stops it (``stopped``, every pending attempt cancelled). Pausing keeps every planned attempt and every
row's progress: claims skip a paused campaign, and what fell due meanwhile goes out after resuming, inside the
window. When outreach starts depends on the cadence's execution mode: ON_ADD at go-live (and every row that
becomes eligible later is planned at once), SCHEDULED at its start time, MANUAL at each ``startOutreach``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from tortoise.expressions import F
from tortoise.transactions import in_transaction

from outboundql import models
from outboundql.cadence.settings import Cadence
from outboundql.enums import (
    ACTIVE_EXECUTION,
    UNSENT_ATTEMPTS,
    AttemptStatus,
    ExecutionAction,
    ExecutionMode,
    ExecutionState,
    ExecutionStatus,
    GoalOutcome,
    Role,
)
from outboundql.errors import Collector, Conflict, InvalidInput
from outboundql.services import audit, events, planning, runtime
from outboundql.services.access import Access
from outboundql.services.locks import locked_campaign

#: Rows a request plans before answering; the scheduler's ticks plan the rest.
PLAN_INLINE = planning.PLAN_BATCH


@dataclass(frozen=True, slots=True)
class GoLive:
    campaign_id: int


@dataclass(frozen=True, slots=True)
class PauseCampaign:
    campaign_id: int


@dataclass(frozen=True, slots=True)
class ResumeCampaign:
    campaign_id: int


@dataclass(frozen=True, slots=True)
class StartOutreach:
    campaign_id: int


@dataclass(frozen=True, slots=True)
class ExecutionChanged:
    campaign: models.Campaign
    planned: int = 0
    """Rows whose first attempt this request planned."""


async def _campaign(access: Access, campaign_id: int) -> models.Campaign:
    return await access.get(models.Campaign, campaign_id, Role.MEMBER, field="campaign_id")


def _refuse_archived(campaign: models.Campaign) -> None:
    if campaign.archived_at is not None or campaign.execution_state is ExecutionState.STOPPED:
        raise InvalidInput("This campaign is archived: its outreach stopped for good. Create a new campaign to "
                           "reach out again.", field="campaign_id")


async def go_live(access: Access, cmd: GoLive) -> ExecutionChanged:
    """NOT_LIVE → LIVE, once. Refused (errors as data, nothing written) when the cadence has no step, a SCHEDULED
    cadence has no start time, or no row is eligible; a second call is a CONFLICT."""
    campaign = await _campaign(access, cmd.campaign_id)
    _refuse_archived(campaign)
    if campaign.execution_state is not ExecutionState.NOT_LIVE:
        raise _already_live(campaign)
    cadence = Cadence.from_stored(campaign.cadence)
    check = Collector()
    if not cadence.steps:
        check.add("campaign_id", "The cadence has no step yet: add one with updateCadence before going live.")
    if cadence.execution_mode is ExecutionMode.SCHEDULED and cadence.start_at is None:
        check.add("campaign_id", "A SCHEDULED cadence needs its start time (startAt) before going live.")
    if planning.ended(cadence, runtime.now()):
        check.add("campaign_id", "The cadence's end time (endAt) passed: move it before going live.")
    if not await planning.eligible_rows(campaign.id, cadence).exists():
        which = "reviewed APPROVED" if cadence.eligibility.value == "approved_only" else "not rejected"
        check.add("campaign_id", f"No row of this campaign is eligible for outreach (rows {which}): add accounts "
                  "and review them, or let the cadence admit every row (eligibility ALL).")
    check.raise_if_any()
    now = runtime.now()
    async with in_transaction():
        campaign = await locked_campaign(campaign.id)
        if campaign.execution_state is not ExecutionState.NOT_LIVE:  # a concurrent goLive won
            raise _already_live(campaign)
        campaign.execution_state = ExecutionState.LIVE
        campaign.live_at = now
        if cadence.execution_mode is ExecutionMode.ON_ADD:
            campaign.outreach_started_at = now
        elif cadence.execution_mode is ExecutionMode.SCHEDULED:
            campaign.outreach_started_at = cadence.start_at
        await campaign.save(update_fields=["execution_state", "live_at", "outreach_started_at", "updated_at"])
        if planning.plans_new_rows(campaign, cadence, now):
            await planning.mark_eligible(campaign, cadence)
        await audit.record(project_id=campaign.project_id, actor=access.user, action="campaign.go_live",
                           row=campaign, after={"execution_mode": cadence.execution_mode.value})
    planned = await plan_now(campaign.id, now)
    await changed(campaign.id)
    return ExecutionChanged(await models.Campaign.get(id=campaign.id), planned)


def _already_live(campaign: models.Campaign) -> Conflict:
    when = campaign.live_at.isoformat(timespec="minutes") if campaign.live_at else "earlier"
    return Conflict(f"This campaign already went live ({when}); going live is one-way. Pause or resume it "
                    "instead.", field="campaign_id")


async def pause_campaign(access: Access, cmd: PauseCampaign) -> ExecutionChanged:
    """LIVE → PAUSED: nothing more is executed; every planned attempt and row keeps its place."""
    return await _move(access, cmd.campaign_id, ExecutionState.LIVE, ExecutionState.PAUSED, "campaign.pause")


async def resume_campaign(access: Access, cmd: ResumeCampaign) -> ExecutionChanged:
    """PAUSED → LIVE: what fell due meanwhile goes out at the next allowed time."""
    return await _move(access, cmd.campaign_id, ExecutionState.PAUSED, ExecutionState.LIVE, "campaign.resume")


async def _move(access: Access, campaign_id: int, source: ExecutionState, target: ExecutionState,
                action: str) -> ExecutionChanged:
    campaign = await _campaign(access, campaign_id)
    _refuse_archived(campaign)
    async with in_transaction():
        campaign = await locked_campaign(campaign.id)
        if campaign.execution_state is not source:
            raise InvalidInput(_cannot(campaign.execution_state, target), field="campaign_id")
        campaign.execution_state = target
        await campaign.save(update_fields=["execution_state", "updated_at"])
        await audit.record(project_id=campaign.project_id, actor=access.user, action=action, row=campaign,
                           before={"execution_state": source.value}, after={"execution_state": target.value})
    await changed(campaign.id)
    return ExecutionChanged(campaign)


def _cannot(state: ExecutionState, target: ExecutionState) -> str:
    if state is ExecutionState.NOT_LIVE:
        return "This campaign is not live yet: go live first."
    if state is target:
        return f"This campaign is already {state.value.replace('_', ' ')}."
    return f"A {state.value.replace('_', ' ')} campaign cannot be {target.value}."


async def start_outreach(access: Access, cmd: StartOutreach) -> ExecutionChanged:
    """Plan outreach now for every eligible row not planned yet (MANUAL campaigns start this way each time; a
    SCHEDULED one starts early). The campaign must be live."""
    campaign = await _campaign(access, cmd.campaign_id)
    _refuse_archived(campaign)
    if campaign.execution_state is not ExecutionState.LIVE:
        raise InvalidInput("Resume the campaign first: it is paused." if campaign.execution_state is
                           ExecutionState.PAUSED else "This campaign is not live yet: go live first.",
                           field="campaign_id")
    cadence = Cadence.from_stored(campaign.cadence)
    if not cadence.steps:
        raise InvalidInput("The cadence has no step: add one with updateCadence first.", field="campaign_id")
    now = runtime.now()
    if planning.ended(cadence, now):
        raise InvalidInput("The cadence's end time (endAt) passed: nothing new goes out. Move endAt to go on.",
                           field="campaign_id")
    async with in_transaction():
        campaign = await locked_campaign(campaign.id)
        campaign.outreach_started_at = now  # when planning last began
        await campaign.save(update_fields=["outreach_started_at", "updated_at"])
        marked = await planning.mark_eligible(campaign, cadence)
        waiting = await models.CampaignAccount.filter(campaign_id=campaign.id,
                                                      execution_status=ExecutionStatus.PLANNING).exists()
        if not waiting:
            raise InvalidInput("No eligible row waits for outreach: every eligible row is planned already, or none "
                               "is eligible (review rows APPROVED, or admit every row with eligibility ALL).",
                               field="campaign_id")
        await audit.record(project_id=campaign.project_id, actor=access.user, action="campaign.start_outreach",
                           row=campaign, after={"rows": marked})
    planned = await plan_now(campaign.id, now)
    await changed(campaign.id)
    return ExecutionChanged(await models.Campaign.get(id=campaign.id), planned)


async def plan_now(campaign_id: int, now: datetime) -> int:
    """Plan up to `PLAN_INLINE` of the campaign's waiting rows before a request answers (the ticks plan the
    rest)."""
    return len((await planning.plan_pending(campaign_id, now, limit=PLAN_INLINE)).planned)


async def plan_added(campaign_id: int) -> int:
    """After rows were added to or approved in a campaign: when it plans new rows by itself (live ON_ADD, or
    SCHEDULED after its start), mark the eligible ones and plan them at once."""
    now = runtime.now()
    if not await planning.mark_eligible_locked(campaign_id, now):
        return 0
    planned = await plan_now(campaign_id, now)
    await changed(campaign_id)
    return planned


# --- one row's plan ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SetCampaignAccountExecution:
    campaign_account_ids: tuple[int, ...]
    action: ExecutionAction


@dataclass(frozen=True, slots=True)
class RowsChanged:
    campaign_accounts: list[models.CampaignAccount]


async def set_campaign_account_execution(access: Access, cmd: SetCampaignAccountExecution) -> RowsChanged:
    """DISABLE (this row is skipped until enabled; its plan is kept), ENABLE, RESET (pending attempts cancelled,
    planned again from the first step; the history is kept) or COMPLETE (pending attempts cancelled, nothing more
    is attempted)."""
    rows = await _rows(access, cmd.campaign_account_ids)
    now = runtime.now()
    ids = [r.id for r in rows]
    by_campaign: dict[int, list[int]] = defaultdict(list)
    for row in rows:
        by_campaign[row.campaign_id].append(row.id)
    action = ExecutionAction(cmd.action)
    async with in_transaction():
        for campaign_id, row_ids in sorted(by_campaign.items()):
            campaign = await locked_campaign(campaign_id)
            if action is ExecutionAction.DISABLE or action is ExecutionAction.ENABLE:
                await models.CampaignAccount.filter(id__in=row_ids).update(
                    execution_disabled=action is ExecutionAction.DISABLE, updated_at=now)
            elif action is ExecutionAction.COMPLETE:
                await cancel_pending(row_ids, "Completed by a person.", now)
                await models.CampaignAccount.filter(id__in=row_ids).update(
                    execution_status=ExecutionStatus.COMPLETED, updated_at=now)
            else:
                await cancel_pending(row_ids, "Reset by a person: planned again from the first step.", now)
                started = campaign.execution_state in (ExecutionState.LIVE, ExecutionState.PAUSED) and (
                    campaign.outreach_started_at is not None and campaign.outreach_started_at <= now)
                await models.CampaignAccount.filter(id__in=row_ids).update(
                    execution_status=ExecutionStatus.PLANNING if started else ExecutionStatus.NOT_PLANNED,
                    attempts_made=0, goal_outcome=GoalOutcome.OPEN, plan_round=F("plan_round") + 1, updated_at=now)
            for row_id in row_ids:
                await models.AuditEvent.create(project_id=campaign.project_id, actor=access.user,
                                               action=f"campaign_account.execution.{action.value}",
                                               object_type="CampaignAccount", object_id=row_id)
    if action is ExecutionAction.RESET:
        for campaign_id in by_campaign:
            await plan_now(campaign_id, now)
    for campaign_id, row_ids in by_campaign.items():
        await changed(campaign_id, row_ids)
    found = {r.id: r for r in await models.CampaignAccount.filter(id__in=ids)}
    return RowsChanged([found[i] for i in ids])


async def _rows(access: Access, ids: Sequence[int]) -> list[models.CampaignAccount]:
    return await access.get_many(models.CampaignAccount, ids, Role.MEMBER, field="campaign_account_ids",
                                 noun="campaign accounts", limit=runtime.settings().max_bulk_items,
                                 project_field="campaign__project_id")


# --- stopping plans ---------------------------------------------------------------------------------


async def cancel_pending(row_ids: Sequence[int], reason: str, now: datetime) -> int:
    """Cancel the attempts of these rows that did not go out yet (inside the caller's transaction); one awaiting
    its result keeps waiting for it."""
    return await models.OutreachAttempt.filter(campaign_account_id__in=list(row_ids),
                                               status__in=list(UNSENT_ATTEMPTS)).update(
        status=AttemptStatus.CANCELLED, error=reason, claim_token=None, settled_at=now, updated_at=now)


#: Why `stop_on_reply` cancelled an attempt (an out-of-office reply finds what it stopped by it).
REPLY_STOPPED = "A reply came in: the plan stopped."


async def stop_on_reply(row: models.CampaignAccount) -> bool:
    """An inbound message was logged on ``row`` (inside the logging transaction): its plan stops — pending attempts
    cancelled, an active row completed. Whether anything changed."""
    now = runtime.now()
    cancelled = await cancel_pending([row.id], REPLY_STOPPED, now)
    moved = await models.CampaignAccount.filter(id=row.id, execution_status__in=list(ACTIVE_EXECUTION)).update(
        execution_status=ExecutionStatus.COMPLETED, updated_at=now)
    return bool(cancelled or moved)


async def unplan(row_ids: Sequence[int], reason: str) -> None:
    """Rows no longer eligible (reviewed REJECTED; inside the caller's transaction): attempts not sent yet are
    cancelled and an active row is not planned any more, its next plan a new round (approved again, it is planned
    from the first step; its history is kept)."""
    now = runtime.now()
    await cancel_pending(row_ids, reason, now)
    await models.CampaignAccount.filter(id__in=list(row_ids), execution_status__in=list(ACTIVE_EXECUTION)).update(
        execution_status=ExecutionStatus.NOT_PLANNED, attempts_made=0, plan_round=F("plan_round") + 1,
        updated_at=now)


async def end_plan(row: models.CampaignAccount, reason: str) -> None:
    """A person decided the row's outcome (inside their transaction): pending attempts cancelled, an active row
    completed (``row`` is updated; the caller saves it)."""
    await cancel_pending([row.id], reason, runtime.now())
    if row.execution_status in ACTIVE_EXECUTION:
        row.execution_status = ExecutionStatus.COMPLETED


async def end_plans(row_ids: Sequence[int], reason: str) -> None:
    """`end_plan` for many rows at once (inside the caller's transaction): pending attempts cancelled, active rows
    completed."""
    now = runtime.now()
    await cancel_pending(row_ids, reason, now)
    await models.CampaignAccount.filter(id__in=list(row_ids), execution_status__in=list(ACTIVE_EXECUTION)).update(
        execution_status=ExecutionStatus.COMPLETED, updated_at=now)


async def stop_campaign(campaign: models.Campaign) -> None:
    """Archiving (inside its transaction): a campaign that went live stops for good; pending attempts are
    cancelled and active rows completed."""
    if campaign.execution_state not in (ExecutionState.LIVE, ExecutionState.PAUSED):
        return
    now = runtime.now()
    campaign.execution_state = ExecutionState.STOPPED
    await models.Campaign.filter(id=campaign.id).update(execution_state=ExecutionState.STOPPED, updated_at=now)
    await models.OutreachAttempt.filter(campaign_id=campaign.id, status__in=list(UNSENT_ATTEMPTS)).update(
        status=AttemptStatus.CANCELLED, error="The campaign was archived.", claim_token=None, settled_at=now,
        updated_at=now)
    await models.CampaignAccount.filter(campaign_id=campaign.id, execution_status__in=list(ACTIVE_EXECUTION)
                                        ).update(execution_status=ExecutionStatus.COMPLETED, updated_at=now)


async def changed(campaign_id: int, row_ids: Sequence[int] = (), attempt_ids: Sequence[int] = ()) -> None:
    """Tell the campaign's page that execution moved (after commit): which rows and attempts, at most 100 each."""
    await events.publish_campaign_event(campaign_id, "execution_changed", {
        "campaign_account_ids": sorted(set(row_ids))[:100], "attempt_ids": sorted(set(attempt_ids))[:100]})
