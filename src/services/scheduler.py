"""The scheduler: the database is the truth about what is due, and any number of processes tick over it.

A tick (`tick`) plans what waits to be planned, then claims a batch of due attempts of live campaigns — attempts
``scheduled`` whose time came, and attempts a worker claimed but never settled within the lease (it died, or the
broker lost its message) — and hands them to the ``execute_attempts`` job. A claim is one conditional UPDATE
that stamps the batch with a fresh token (on PostgreSQL over ``FOR UPDATE SKIP LOCKED``, so concurrent ticks take
disjoint batches without waiting); executing (`execute`) only touches attempts still carrying its token and
settles each with a conditional UPDATE, so an attempt is executed once whatever runs twice.

Executing checks again what must hold at that moment: the campaign is live and not past its end, the row is
enabled and not finished, the window is open in the recipient's zone (else the attempt waits for its next
opening), and nobody is do-not-contact (an account → the row is disqualified; a contact → the next one is tried).
Time is always the runtime clock's, passed into SQL.
"""

from __future__ import annotations

import logging
import secrets
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from tortoise.connection import connections
from tortoise.expressions import F, Q
from tortoise.transactions import in_transaction

from outboundql import channels, models
from outboundql.cadence import policy, timezones, windows
from outboundql.cadence.settings import Cadence
from outboundql.enums import (
    ACTIVE_EXECUTION,
    FINAL_EXECUTION,
    AccountStatus,
    AttemptOutcome,
    AttemptStatus,
    ExecutionState,
    ExecutionStatus,
)
from outboundql.services import attempts, execution, planning, runtime, sql
from outboundql.services.jobs import JobsUnavailable
from outboundql.services.locks import locked_campaign

log = logging.getLogger(__name__)

#: Attempts one claim takes (one job executes them).
CLAIM_BATCH = 200
#: Rows a tick plans at most (in batches of `planning.PLAN_BATCH`); the next tick goes on.
PLAN_PER_TICK = 5000


@dataclass(frozen=True, slots=True)
class Tick:
    planned: int
    claimed: list[int]


async def tick(now: datetime | None = None, *, claim_limit: int = CLAIM_BATCH) -> Tick:
    """One pass: plan, claim one batch of due attempts, send it to the ``execute_attempts`` job. A job queue that
    is down leaves the batch claimed: the lease gives it to a later tick."""
    now = now or runtime.now()
    planned = await plan_started(now)
    token, claimed = await claim(now, claim_limit)
    if claimed:
        try:
            await runtime.jobs().execute_attempts(claimed, token)
        except JobsUnavailable as exc:
            log.warning("Claimed attempts %s could not be handed to a worker (%s); a later tick claims them again "
                        "once their lease ends.", claimed[:10], exc)
    return Tick(planned, claimed)


async def plan_started(now: datetime) -> int:
    """Mark the eligible rows of live campaigns that plan by themselves, then plan waiting rows (up to
    `PLAN_PER_TICK`)."""
    for campaign in await models.Campaign.filter(execution_state=ExecutionState.LIVE):
        cadence = Cadence.from_stored(campaign.cadence)
        if planning.plans_new_rows(campaign, cadence, now):
            await planning.mark_eligible(campaign, cadence)
    waiting: list[int] = await sql.column(models.CampaignAccount.filter(
        execution_status=ExecutionStatus.PLANNING,
        campaign__execution_state__in=[ExecutionState.LIVE, ExecutionState.PAUSED],
    ).distinct().values_list("campaign_id", flat=True))
    planned = taken = 0
    for campaign_id in sorted(waiting):
        while taken < PLAN_PER_TICK:
            done = await planning.plan_pending(campaign_id, now)
            if not done:
                break
            planned += len(done.planned)
            taken += len(done.planned) + len(done.disqualified)
            await execution.changed(campaign_id, done.planned + done.disqualified)
    return planned


def lease() -> timedelta:
    return timedelta(seconds=runtime.settings().attempt_lease_seconds)


async def claim(now: datetime, limit: int = CLAIM_BATCH) -> tuple[str, list[int]]:
    """Claim up to ``limit`` due attempts of live campaigns for one execution: the token stamped on them and
    their ids (none: an empty list)."""
    token = secrets.token_hex(16)
    expired = now - lease()
    conn = connections.get("default")
    if conn.capabilities.dialect == "postgres":
        await conn.execute_query(
            "UPDATE outreach_attempt SET status = $1, claimed_at = $2, claim_token = $3, updated_at = $2 "
            "WHERE id IN (SELECT a.id FROM outreach_attempt a "
            "JOIN campaign c ON c.id = a.campaign_id JOIN campaign_account ca ON ca.id = a.campaign_account_id "
            "WHERE ((a.status = $4 AND a.due_at <= $2) OR (a.status = $1 AND a.claimed_at < $5)) "
            "AND c.execution_state = $6 AND NOT ca.execution_disabled "
            "ORDER BY a.due_at, a.id LIMIT $7 FOR UPDATE OF a SKIP LOCKED)",
            [AttemptStatus.EXECUTING.value, now, token, AttemptStatus.SCHEDULED.value, expired,
             ExecutionState.LIVE.value, limit])
    else:  # SQLite: one writer at a time; the conditional UPDATE makes the claim exclusive
        due = models.OutreachAttempt.filter(
            Q(status=AttemptStatus.SCHEDULED, due_at__lte=now) | Q(status=AttemptStatus.EXECUTING,
                                                                   claimed_at__lt=expired),
            campaign__execution_state=ExecutionState.LIVE, campaign_account__execution_disabled=False,
        ).order_by("due_at", "id").limit(limit)
        ids: list[int] = await sql.column(due.values_list("id", flat=True))
        if ids:
            await models.OutreachAttempt.filter(
                Q(status=AttemptStatus.SCHEDULED) | Q(status=AttemptStatus.EXECUTING, claimed_at__lt=expired),
                id__in=ids,
            ).update(status=AttemptStatus.EXECUTING, claimed_at=now, claim_token=token, updated_at=now)
    claimed: list[int] = await sql.column(models.OutreachAttempt.filter(
        claim_token=token, status=AttemptStatus.EXECUTING).order_by("due_at", "id").values_list("id", flat=True))
    return token, claimed


async def execute(ids: Sequence[int], token: str, now: datetime | None = None) -> list[int]:
    """Execute the attempts of one claim (those still carrying ``token``); the ids executed."""
    now = now or runtime.now()
    claimed = await models.OutreachAttempt.filter(id__in=list(ids), claim_token=token,
                                                  status=AttemptStatus.EXECUTING).order_by("id").only(
        *planning.fields_but(models.OutreachAttempt, "created_at", "updated_at", "claimed_at"))  # never saved
    groups: dict[int, list[models.OutreachAttempt]] = defaultdict(list)
    for attempt in claimed:
        groups[attempt.campaign_id].append(attempt)
    executed: list[int] = []
    for campaign_id, group in groups.items():
        executed += await _execute_campaign(campaign_id, group, token, now)
    return executed


async def _execute_campaign(campaign_id: int, group: list[models.OutreachAttempt], token: str,
                            now: datetime) -> list[int]:
    campaign = await models.Campaign.get(id=campaign_id)
    plan = await planning.CampaignPlan.of(campaign)
    rows = {r.id: r for r in await models.CampaignAccount.filter(id__in=[a.campaign_account_id for a in group]
                                                                 ).only(*planning.row_fields())}
    people = await planning.people_of(r.account_id for r in rows.values())
    window = plan.cadence.window
    release: dict[int, datetime] = {}  # back to scheduled, due at
    cancel: dict[int, str] = {}  # attempt → why
    finish: dict[int, tuple[ExecutionStatus, str]] = {}  # row → final status, why
    next_contact: list[models.OutreachAttempt] = []
    failed: list[tuple[models.OutreachAttempt, channels.DeliveryFailed]] = []
    handed: list[models.OutreachAttempt] = []
    for attempt in group:
        row = rows[attempt.campaign_account_id]
        who = people[row.account_id]
        contact = next((c for c in who.contacts if c.id == attempt.contact_id), None)
        if campaign.execution_state is ExecutionState.STOPPED or row.execution_status in FINAL_EXECUTION:
            cancel[attempt.id] = "The plan stopped before this attempt was executed."
        elif campaign.execution_state is not ExecutionState.LIVE or row.execution_disabled:
            release[attempt.id] = attempt.due_at  # paused meanwhile: it waits where it was
        elif planning.ended(plan.cadence, now):
            cancel[attempt.id] = "The campaign's end time passed before this attempt was executed."
            finish[row.id] = (ExecutionStatus.COMPLETED, "end")
        elif not windows.is_open(now, window, zone := timezones.recipient_zone(
                window.time_zone, window.recipient_local_time, contact.time_zone if contact else None,
                who.account.time_zone, who.account.country)):
            release[attempt.id] = windows.next_allowed(now, window, zone)
        elif who.account.status is AccountStatus.DO_NOT_CONTACT:
            cancel[attempt.id] = f"{who.account.name} is marked do_not_contact."
            finish[row.id] = (ExecutionStatus.DISQUALIFIED, "do_not_contact")
        elif contact is not None and contact.do_not_contact:
            cancel[attempt.id] = f"{contact.name} is marked do not contact."
            next_contact.append(attempt)
        else:
            result = await channels.channel_for(attempt.channel.value).deliver(channels.Delivery(
                attempt_id=attempt.id, delivery_key=attempt.delivery_key, project_id=attempt.project_id,
                campaign_id=campaign.id, channel=attempt.channel.value, address=attempt.address,
                contact_name=contact.name if contact else None, account_name=who.account.name,
                subject=attempt.subject, body=attempt.body, step=attempt.step, attempt_number=attempt.attempt_number))
            if isinstance(result, channels.DeliveryFailed):
                failed.append((attempt, result))
            else:
                handed.append(attempt)
    mine = models.OutreachAttempt.filter(claim_token=token, status=AttemptStatus.EXECUTING)
    executed: list[int] = []
    async with in_transaction():
        await locked_campaign(campaign_id)  # the order every writer of these rows takes
        for attempt_id, due_at in release.items():
            await mine.filter(id=attempt_id).update(status=AttemptStatus.SCHEDULED, due_at=due_at, claim_token=None,
                                                    claimed_at=None, updated_at=now)
        for attempt_id, why in cancel.items():
            await mine.filter(id=attempt_id).update(status=AttemptStatus.CANCELLED, error=why, settled_at=now,
                                                    updated_at=now)
        for row_id, (status, _) in finish.items():
            await execution.cancel_pending([row_id], "The plan stopped.", now)
            await models.CampaignAccount.filter(id=row_id, execution_status__in=list(ACTIVE_EXECUTION)).update(
                execution_status=status, updated_at=now)
        for attempt in next_contact:
            row = await models.CampaignAccount.get(id=attempt.campaign_account_id)
            await attempts.advance(plan, row, people[row.account_id], attempt, policy.Next.NEXT_CONTACT, now,
                                   skipped=True)
        for attempt, failure in failed:
            if not await mine.filter(id=attempt.id).update(status=AttemptStatus.FAILED, error=failure.error,
                                                           outcome=AttemptOutcome.FAILED, executed_at=now,
                                                           settled_at=now, updated_at=now):
                continue
            await models.CampaignAccount.filter(id=attempt.campaign_account_id).update(
                attempts_made=F("attempts_made") + 1)
            row = await models.CampaignAccount.get(id=attempt.campaign_account_id)
            decision = (policy.after_result(plan.cadence, attempt.attempt_number, AttemptOutcome.FAILED, None)
                        if failure.retryable else policy.Next.NEXT_CONTACT)
            await attempts.advance(plan, row, people[row.account_id], attempt, decision, now)
            executed.append(attempt.id)
        handed_ids = [a.id for a in handed]
        if handed_ids:
            await mine.filter(id__in=handed_ids).update(status=AttemptStatus.AWAITING_RESULT, executed_at=now,
                                                        updated_at=now)
            done: list[int] = await sql.column(models.OutreachAttempt.filter(
                id__in=handed_ids, claim_token=token, status=AttemptStatus.AWAITING_RESULT, executed_at=now
            ).values_list("id", flat=True))
            row_ids = [a.campaign_account_id for a in handed if a.id in set(done)]
            await models.CampaignAccount.filter(id__in=row_ids, execution_status__in=list(ACTIVE_EXECUTION)).update(
                execution_status=ExecutionStatus.EXECUTING, attempts_made=F("attempts_made") + 1, updated_at=now)
            await models.AuditEvent.bulk_create([
                models.AuditEvent(project_id=campaign.project_id, actor=None, action="attempt.execute",
                                  object_type="OutreachAttempt", object_id=attempt_id,
                                  after={"channel": channels.channel_for(a.channel.value).key})
                for a in handed if (attempt_id := a.id) in set(done)], batch_size=500)
            executed += done
    await execution.changed(campaign_id, [a.campaign_account_id for a in group], [a.id for a in group])
    return executed
