"""What people do with outreach attempts: review planned ones (approve with edits, reject, execute all approved)
and record the result of an executed one, which drives the plan (`settle`).

Recording a result logs the attempt's message through `services.messages.log_message` (its idempotency key is
the attempt's delivery key, so a retried request never counts the account twice), then applies the cadence's
retry policy: goal achieved → the row is completed; a retried outcome → the same step again after the interval,
at the next allowed time, until ``max_attempts``, then the account's next reachable contact, then
``max_retries``; a bounce → the next contact; anything else ends the step → the next step after its delay, or
completed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from tortoise.connection import connections
from tortoise.transactions import in_transaction

from outboundql import models
from outboundql.cadence import policy
from outboundql.enums import (
    FINAL_EXECUTION,
    AttemptOutcome,
    AttemptStatus,
    CallOutcome,
    Channel,
    Direction,
    ExecutionStatus,
    GoalOutcome,
    MessageMode,
    MessageStatus,
    OutreachStatus,
    Role,
)
from outboundql.errors import Collector, Conflict, InvalidInput
from outboundql.metrics import ATTEMPTS_SETTLED
from outboundql.services import audit, campaign_stats, fields, messages, planning, runtime, sql, webhook_deliveries
from outboundql.services import signals as signals_service
from outboundql.services.access import Access
from outboundql.services.campaign_accounts import OUTREACH_RANK, outreach_deltas
from outboundql.services.commands import UNSET, Maybe, given
from outboundql.services.execution import cancel_pending, changed
from outboundql.services.locks import locked_campaign

#: Outcomes of a call; other channels take SENT or BOUNCED (FAILED fits both: nothing went out).
CALL_OUTCOMES = frozenset({AttemptOutcome.CONNECTED, AttemptOutcome.VOICEMAIL, AttemptOutcome.NO_ANSWER,
                           AttemptOutcome.BUSY, AttemptOutcome.FAILED})
MESSAGE_OUTCOMES = frozenset({AttemptOutcome.SENT, AttemptOutcome.BOUNCED, AttemptOutcome.FAILED})
CALL_CHANNELS = frozenset({Channel.PHONE_CALL})

EDIT_CLEANERS = {"subject": fields.text(500, label="Subject"), "body": fields.long_text(label="Body")}
RESULT_CLEANERS = {"notes": fields.long_text(label="Notes")}
BOUNCED = OutreachStatus.BOUNCED


@dataclass(frozen=True, slots=True)
class AttemptsChanged:
    attempts: list[models.OutreachAttempt]


async def _attempts(access: Access, ids: Sequence[int]) -> list[models.OutreachAttempt]:
    return await access.get_many(models.OutreachAttempt, ids, Role.MEMBER, field="attempt_ids", noun="attempts",
                                 limit=runtime.settings().max_bulk_items)


def _require_status(attempts: Sequence[models.OutreachAttempt], ids: Sequence[int], status: AttemptStatus,
                    doing: str, field: str = "attempt_ids") -> None:
    check = Collector()
    for attempt in attempts:
        if attempt.status is not status:
            i = list(ids).index(attempt.id)
            check.add(f"{field}[{i}]", f"This attempt is {attempt.status.value.replace('_', ' ')}; only an attempt "
                      f"{status.value.replace('_', ' ')} can be {doing}.")
    check.raise_if_any()


# --- manual review ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AttemptEdit:
    attempt_id: int
    subject: Maybe[str | None] = UNSET
    body: Maybe[str] = UNSET


@dataclass(frozen=True, slots=True)
class ApproveOutreach:
    attempt_ids: tuple[int, ...]
    edits: tuple[AttemptEdit, ...] = ()


async def approve_outreach(access: Access, cmd: ApproveOutreach) -> AttemptsChanged:
    """Approve planned attempts (each AWAITING_APPROVAL), optionally editing their subject and body: they go out
    when due, inside the window (`execute_approved` makes them due now)."""
    attempts = await _attempts(access, cmd.attempt_ids)
    check = Collector()
    edits: dict[int, dict[str, str | None]] = {}
    for i, edit in enumerate(cmd.edits):
        if edit.attempt_id not in cmd.attempt_ids:
            check.add(f"edits[{i}].attempt_id", "Edit only attempts this request approves (list it in attemptIds).")
            continue
        change = fields.clean(given(edit, exclude=("attempt_id",)), EDIT_CLEANERS, check, prefix=f"edits[{i}].")
        if "body" in change and not change["body"]:
            check.add(f"edits[{i}].body", "The body cannot be empty.")
        edits.setdefault(edit.attempt_id, {}).update(change)
    check.raise_if_any()
    _require_status(attempts, cmd.attempt_ids, AttemptStatus.AWAITING_APPROVAL, "approved")
    now = runtime.now()
    by_campaign = _by_campaign(attempts)
    async with in_transaction():
        for campaign_id, group in sorted(by_campaign.items()):
            await locked_campaign(campaign_id)
            for attempt in group:
                change = edits.get(attempt.id, {})
                moved = await models.OutreachAttempt.filter(id=attempt.id, status=AttemptStatus.AWAITING_APPROVAL
                                                            ).update(status=AttemptStatus.SCHEDULED,
                                                                     reviewed_by_id=access.user.id, updated_at=now,
                                                                     **change)
                if not moved:
                    raise Conflict("This attempt was reviewed meanwhile; reload it.",
                                   field=f"attempt_ids[{list(cmd.attempt_ids).index(attempt.id)}]")
                await models.CampaignAccount.filter(id=attempt.campaign_account_id,
                                                    execution_status=ExecutionStatus.AWAITING_APPROVAL).update(
                    execution_status=ExecutionStatus.RESCHEDULED if attempt.attempt_number > 1
                    else ExecutionStatus.AWAITING_EXECUTION, updated_at=now)
                await audit.record(project_id=attempt.project_id, actor=access.user, action="attempt.approve",
                                   row=attempt, after=dict(change))
    return await _answer(by_campaign, cmd.attempt_ids)


@dataclass(frozen=True, slots=True)
class RejectOutreach:
    attempt_ids: tuple[int, ...]


async def reject_outreach(access: Access, cmd: RejectOutreach) -> AttemptsChanged:
    """Reject planned attempts (each AWAITING_APPROVAL): nothing is sent for them, and each row's plan moves on as
    after a finished step (its next step, planned for review again, or completed)."""
    attempts = await _attempts(access, cmd.attempt_ids)
    _require_status(attempts, cmd.attempt_ids, AttemptStatus.AWAITING_APPROVAL, "rejected")
    now = runtime.now()
    by_campaign = _by_campaign(attempts)
    async with in_transaction():
        for campaign_id, group in sorted(by_campaign.items()):
            campaign = await locked_campaign(campaign_id)
            plan = await planning.CampaignPlan.of(campaign)
            people = await planning.people_of(await _account_ids(group))
            for attempt in group:
                moved = await models.OutreachAttempt.filter(id=attempt.id, status=AttemptStatus.AWAITING_APPROVAL
                                                            ).update(status=AttemptStatus.REJECTED, settled_at=now,
                                                                     reviewed_by_id=access.user.id, updated_at=now)
                if not moved:
                    raise Conflict("This attempt was reviewed meanwhile; reload it.",
                                   field=f"attempt_ids[{list(cmd.attempt_ids).index(attempt.id)}]")
                row = await models.CampaignAccount.get(id=attempt.campaign_account_id)
                await advance(plan, row, people[row.account_id], attempt, policy.Next.NEXT_STEP, now)
                await audit.record(project_id=attempt.project_id, actor=access.user, action="attempt.reject",
                                   row=attempt)
    return await _answer(by_campaign, cmd.attempt_ids)


async def _account_ids(attempts: Sequence[models.OutreachAttempt]) -> list[int]:
    ids = [a.campaign_account_id for a in attempts]
    return await sql.column(models.CampaignAccount.filter(id__in=ids).values_list("account_id", flat=True))


@dataclass(frozen=True, slots=True)
class ExecuteApproved:
    campaign_id: int


@dataclass(frozen=True, slots=True)
class ApprovedReleased:
    campaign: models.Campaign
    attempts: list[models.OutreachAttempt]
    """The approved attempts made due now."""


async def execute_approved(access: Access, cmd: ExecuteApproved) -> ApprovedReleased:
    """Every approved attempt of the campaign still waiting for its time becomes due now: the scheduler executes
    them at its next tick, inside the window (outside it, at the window's next opening)."""
    campaign = await access.get(models.Campaign, cmd.campaign_id, Role.MEMBER, field="campaign_id")
    now = runtime.now()
    async with in_transaction():
        await locked_campaign(campaign.id)
        waiting = models.OutreachAttempt.filter(campaign_id=campaign.id, status=AttemptStatus.SCHEDULED,
                                                reviewed_by_id__isnull=False, due_at__gt=now)
        ids: list[int] = await sql.column(waiting.values_list("id", flat=True))
        if ids:
            await models.OutreachAttempt.filter(id__in=ids).update(due_at=now, updated_at=now)
            await audit.record(project_id=campaign.project_id, actor=access.user, action="campaign.execute_approved",
                               row=campaign, after={"attempts": len(ids)})
    released = await models.OutreachAttempt.filter(id__in=ids).order_by("id")
    if ids:
        await changed(campaign.id, [a.campaign_account_id for a in released], ids)
    return ApprovedReleased(campaign, list(released))


def _by_campaign(attempts: Sequence[models.OutreachAttempt]) -> dict[int, list[models.OutreachAttempt]]:
    groups: dict[int, list[models.OutreachAttempt]] = defaultdict(list)
    for attempt in attempts:
        groups[attempt.campaign_id].append(attempt)
    return groups


async def _answer(by_campaign: dict[int, list[models.OutreachAttempt]], ids: Sequence[int]) -> AttemptsChanged:
    found = {a.id: a for a in await models.OutreachAttempt.filter(id__in=list(set(ids)))}
    for campaign_id, group in by_campaign.items():
        await changed(campaign_id, [a.campaign_account_id for a in group], [a.id for a in group])
    return AttemptsChanged([found[i] for i in dict.fromkeys(ids)])


# --- results ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RecordAttemptResult:
    attempt_id: int
    outcome: AttemptOutcome
    goal_achieved: bool | None = None
    notes: str = ""
    signals: tuple[signals_service.SignalIn, ...] = ()


@dataclass(frozen=True, slots=True)
class AttemptSettled:
    attempt: models.OutreachAttempt
    campaign_account: models.CampaignAccount
    next_attempt: models.OutreachAttempt | None = None
    """What the plan made next (a retry, the next contact or step), if anything."""


async def record_attempt_result(access: Access, cmd: RecordAttemptResult) -> AttemptSettled:
    """Record what an executed attempt (AWAITING_RESULT) came to; see the module docstring. Recording the same
    result again answers the first (the message is logged once)."""
    attempt = await access.get(models.OutreachAttempt, cmd.attempt_id, Role.MEMBER, field="attempt_id")
    outcome = AttemptOutcome(cmd.outcome)
    check = Collector()
    calls = attempt.channel in CALL_CHANNELS
    if calls and outcome not in CALL_OUTCOMES:
        check.add("outcome", "A call's outcome is CONNECTED, VOICEMAIL, NO_ANSWER, BUSY or FAILED.")
    if not calls and outcome not in MESSAGE_OUTCOMES:
        check.add("outcome", f"An attempt by {attempt.channel.value} is SENT, BOUNCED or FAILED "
                  "(call outcomes are for PHONE_CALL).")
    if cmd.goal_achieved and outcome in (AttemptOutcome.FAILED, AttemptOutcome.BOUNCED, AttemptOutcome.NO_ANSWER,
                                         AttemptOutcome.BUSY):
        check.add("goal_achieved", f"An attempt that came to {outcome.value} cannot have achieved the goal.")
    cleaned = fields.clean({"notes": cmd.notes}, RESULT_CLEANERS, check)
    goal_key = (await models.Campaign.get(id=attempt.campaign_id)).goal_key
    signals = signals_service.clean(cmd.signals, signals_service.kinds_of(goal_key), check)
    check.raise_if_any()
    notes = cleaned["notes"]
    if (attempt.status is AttemptStatus.DONE and attempt.outcome is outcome
            and attempt.goal_achieved == cmd.goal_achieved):
        return await _settled(attempt)  # the same result recorded again
    if attempt.status is not AttemptStatus.AWAITING_RESULT:
        raise InvalidInput(_not_awaiting(attempt), field="attempt_id")
    message: models.Message | None = None
    if outcome is not AttemptOutcome.FAILED:  # something went out: it joins the thread, once
        message = await _log(access, attempt, outcome, notes, signals)
    now = runtime.now()
    async with in_transaction():
        campaign = await locked_campaign(attempt.campaign_id)
        locked = await models.OutreachAttempt.filter(id=attempt.id).select_for_update().get()
        if locked.status is not AttemptStatus.AWAITING_RESULT:
            if locked.status is AttemptStatus.DONE and locked.outcome is outcome:
                return await _settled(locked)  # a concurrent copy of this request settled it
            raise Conflict(_not_awaiting(locked), field="attempt_id")
        following, _ = await settle(campaign, locked, outcome, cmd.goal_achieved, now, notes=notes,
                                    message=message, actor=access.user)
    await changed(locked.campaign_id, [locked.campaign_account_id],
                  [locked.id] + ([following.id] if following else []))
    await webhook_deliveries.record_attempt_result(locked)
    return AttemptSettled(locked, await models.CampaignAccount.get(id=locked.campaign_account_id), following)


@dataclass(frozen=True, slots=True)
class Result:
    """What one executed attempt came to, for `settle_all`."""

    attempt: models.OutreachAttempt
    """Locked and executed (the caller may have set its ``provider_id`` and ``error``: saved with the rest)."""
    outcome: AttemptOutcome
    goal_achieved: bool | None = None
    notes: str = ""
    message: models.Message | None = None
    audit_after: dict[str, object] = field(default_factory=dict)
    """Said in its audit event beside the outcome (which channel delivered it)."""


#: The attempt's columns settling writes.
SETTLED_COLUMNS = ("status", "outcome", "goal_achieved", "notes", "settled_at", "executed_at", "message_id",
                   "provider_id", "error", "updated_at")


async def settle(campaign: models.Campaign, locked: models.OutreachAttempt, outcome: AttemptOutcome,
                 goal_achieved: bool | None, now: datetime, *, notes: str = "", message: models.Message | None,
                 actor: models.User | None) -> tuple[models.OutreachAttempt | None, policy.Next]:
    """`settle_all` of one attempt: the next attempt, if any, and the decision."""
    [settled] = await settle_all(campaign, [Result(locked, outcome, goal_achieved, notes, message)], now,
                                 actor=actor)
    return settled


async def settle_all(campaign: models.Campaign, results: Sequence[Result], now: datetime, *,
                     actor: models.User | None, plan: planning.CampaignPlan | None = None,
                     people: Mapping[int, planning.People] | None = None
                     ) -> list[tuple[models.OutreachAttempt | None, policy.Next]]:
    """Settle each attempt of ``results`` (inside the caller's transaction, the campaign locked, the attempts locked
    and executed, of different rows) with its outcome: DONE with its message, a bounce marks the row BOUNCED, the
    retry policy decides what follows (`advance`), audited as ``actor`` (None: the channel that delivered it, its
    ``audit_after`` saying which). For each, the next attempt, if any, and the decision. ``plan`` and ``people``
    (by account id), when the caller read them for a batch. The attempts, their rows and their audit events are
    read and written a statement for the batch (a batch of mails settles in a few)."""
    if not results:
        return []
    conn = connections.get("default")
    for result in results:
        ATTEMPTS_SETTLED.labels(result.outcome.value).inc()
        locked = result.attempt
        locked.status = AttemptStatus.DONE
        locked.outcome = result.outcome
        locked.goal_achieved = result.goal_achieved
        locked.notes = result.notes
        locked.settled_at = now
        locked.executed_at = locked.executed_at or now
        locked.message_id = result.message.id if result.message else None
        locked.updated_at = now
    await sql.update_by_id(conn, models.OutreachAttempt, {
        r.attempt.id: {name: getattr(r.attempt, name) for name in SETTLED_COLUMNS} for r in results})
    rows = {row.id: row for row in await models.CampaignAccount.filter(
        id__in=sorted({r.attempt.campaign_account_id for r in results}))}
    plan = plan or await planning.CampaignPlan.of(campaign)
    missing = {rows[r.attempt.campaign_account_id].account_id for r in results} - set(people or {})
    people = {**(people or {}), **(await planning.people_of(sorted(missing)) if missing else {})}
    settled: list[tuple[models.OutreachAttempt | None, policy.Next]] = []
    for result in results:
        locked = result.attempt
        row = rows[locked.campaign_account_id]
        if result.outcome is AttemptOutcome.BOUNCED:
            await mark_bounced(campaign, row)
        decision = policy.after_result(plan.cadence, locked.attempt_number, result.outcome, result.goal_achieved)
        settled.append((await advance(plan, row, people[row.account_id], locked, decision, now), decision))
    await sql.insert_rows(conn, models.AuditEvent, [
        {"project_id": r.attempt.project_id, "actor_id": actor.id if actor else None, "action": "attempt.result",
         "object_type": "OutreachAttempt", "object_id": r.attempt.id, **audit.origin_columns(), "before": None,
         "after": {"outcome": r.outcome.value, "goal_achieved": r.goal_achieved, "next": decision.value,
                   **r.audit_after}, "created_at": now}
        for r, (_, decision) in zip(results, settled, strict=True)])
    return settled


async def mark_bounced(campaign: models.Campaign, row: models.CampaignAccount) -> None:
    """The row's outreach status becomes BOUNCED (unless it is further along), counted in the campaign's stats."""
    if OUTREACH_RANK[row.outreach_status] < OUTREACH_RANK[BOUNCED]:
        await campaign_stats.bump(campaign.id, **outreach_deltas(row.outreach_status, BOUNCED))
        row.outreach_status = BOUNCED
        await row.save(update_fields=["outreach_status", "updated_at"])


def _not_awaiting(attempt: models.OutreachAttempt) -> str:
    return (f"This attempt is {attempt.status.value.replace('_', ' ')}: a result is recorded once the attempt was "
            "executed (awaiting result), and only once.")


async def _settled(attempt: models.OutreachAttempt) -> AttemptSettled:
    following = await models.OutreachAttempt.filter(campaign_account_id=attempt.campaign_account_id,
                                                    id__gt=attempt.id).order_by("id").first()
    return AttemptSettled(attempt, await models.CampaignAccount.get(id=attempt.campaign_account_id), following)


async def _log(access: Access, attempt: models.OutreachAttempt, outcome: AttemptOutcome, notes: str,
               signals: list[signals_service.SignalIn]) -> models.Message:
    """Log the attempt's message on the thread, as a person logging it would (counters, auto-promotion, the
    do-not-contact refusal), keyed by the attempt so it is logged once."""
    calls = attempt.channel in CALL_CHANNELS
    try:
        logged = await messages.log_message(access, messages.LogMessage(
            campaign_account_id=attempt.campaign_account_id, direction=Direction.OUTBOUND, channel=attempt.channel,
            status=MessageStatus.SENT, mode=MessageMode.LOG_SENT,
            subject=attempt.subject if attempt.channel is Channel.EMAIL else None,
            text=notes if calls else attempt.body,
            outcome=CallOutcome(outcome.value) if calls else None, signals=tuple(signals),
            contact_id=attempt.contact_id, idempotency_key=attempt.delivery_key,
        ), reached_before_do_not_contact=True)
    except InvalidInput as exc:
        raise InvalidInput(exc.message, field="attempt_id") from None
    except Conflict as exc:  # the attempt's message was logged with other notes or signals by an earlier request
        raise Conflict(exc.message, field="attempt_id") from None
    return logged.message


async def log_for_channel(attempt: models.OutreachAttempt, outcome: AttemptOutcome, notes: str = ""
                          ) -> models.Message:
    """Log the message of an attempt a channel delivered, as `record_attempt_result` does for a person, but by
    nobody in particular (the engine: its audit names no user), keyed by the attempt so it is logged once."""
    return await _log(Access.engine(attempt.project_id), attempt, outcome, notes, [])


async def advance(plan: planning.CampaignPlan, row: models.CampaignAccount, people: planning.People,
                  attempt: models.OutreachAttempt, decision: policy.Next, now: datetime, *,
                  skipped: bool = False) -> models.OutreachAttempt | None:
    """Apply ``decision`` to ``row`` after ``attempt`` (inside the caller's transaction, the campaign locked): make
    and save the next attempt, or end the row. Returns the next attempt, if any. A retry waits the retry interval
    from now (when the result is known); the next step its delay from when ``attempt`` was executed (now, if it
    never was). ``skipped``: the attempt was not made (its contact turned out do-not-contact): the next contact is
    tried at once, and with nobody left the row is disqualified."""
    if row.execution_status in FINAL_EXECUTION or attempt.plan_round != row.plan_round:
        if decision is policy.Next.ACHIEVED:  # the goal was reached all the same: it counts
            row.goal_outcome = GoalOutcome.ACHIEVED
            await row.save(update_fields=["goal_outcome", "updated_at"])
        return None  # stopped or reset meanwhile (a reply, a person): nothing follows
    cadence = plan.cadence
    executed = attempt.executed_at or now

    def after(minutes: int, *, since: datetime = now) -> datetime:
        return now if skipped else max(now, since + timedelta(minutes=minutes))

    following: planning.NewAttempt | None = None
    status = ExecutionStatus.COMPLETED
    contact = people.contact(attempt.contact_id)
    view = planning.RowView.of(row)
    if decision is policy.Next.ACHIEVED:
        row.goal_outcome = GoalOutcome.ACHIEVED
        await cancel_pending([row.id], "The goal was achieved.", now)
    elif decision is policy.Next.RETRY and not (contact is not None and contact.do_not_contact) and cadence.step(
            attempt.step) is not None:
        following = await _try(planning.next_attempt(
            plan, view, people, step_number=attempt.step, attempt_number=attempt.attempt_number + 1, contact=contact,
            same_as=attempt, not_before=after(cadence.retry.interval_minutes)))
        status = planning.row_status_for(following, retry=True) if following else ExecutionStatus.DISQUALIFIED
    elif decision in (policy.Next.RETRY, policy.Next.NEXT_CONTACT) and cadence.step(attempt.step) is not None:
        tried = await sql.column(models.OutreachAttempt.filter(
            campaign_account_id=row.id, step=attempt.step, plan_round=row.plan_round
        ).values_list("contact_id", flat=True))
        following = await _try(planning.next_attempt(
            plan, view, people, step_number=attempt.step, skip=list(tried),
            not_before=after(cadence.retry.interval_minutes)))
        nobody_left = ExecutionStatus.DISQUALIFIED if skipped else ExecutionStatus.MAX_RETRIES
        status = planning.row_status_for(following, retry=True) if following else nobody_left
    else:
        for number in range(attempt.step + 1, len(cadence.steps) + 1):
            step = cadence.step(number)
            assert step is not None
            following = await _try(planning.next_attempt(
                plan, view, people, step_number=number, contact=contact,
                not_before=after(step.delay_minutes, since=executed)))
            if following is not None:
                status = planning.row_status_for(following, retry=False)
                break
    saved = None
    if following is not None:
        saved = following.model()
        await saved.save()
    row.execution_status = status
    await row.save(update_fields=["execution_status", "goal_outcome", "updated_at"])
    return saved


async def _try(planned: Awaitable[planning.NewAttempt]) -> planning.NewAttempt | None:
    """The attempt ``planned`` (`planning.next_attempt`), or None when nobody can be reached."""
    try:
        return await planned
    except planning.Unreachable:
        return None
