"""The scheduler: the database is the truth about what is due, and any number of processes tick over it.

A tick (`tick`) plans what waits to be planned, then claims batches of due attempts of live campaigns — attempts
``scheduled`` whose time came, and attempts whose claim went stale — and hands each to an ``execute_attempts``
job. A claim is one conditional UPDATE that stamps the batch with a fresh token (on PostgreSQL over ``FOR UPDATE
SKIP LOCKED``, so concurrent ticks take disjoint batches without waiting); executing (`execute`) only touches
attempts still carrying its token and settles each with a conditional UPDATE, so an attempt is executed once
whatever runs twice.

A claim goes stale two ways. Its job started (the execution stamps ``heartbeat_at`` as it starts and again as it
goes) and then showed no sign of life for the lease: its worker died. Or its job never started within twice the
lease: the queue lost it (Redis restarted empty). Claims wait in the queue only a little: a tick, or a job that
finishes a full batch, claims more only while fewer than `WAITING_CLAIMS` batches wait for a worker, so what waits
starts long before anyone could take it for lost. A batch the queue cannot take (Redis down) goes back at once.

Executing checks again what must hold at that moment: the campaign is live and not past its end, the row is
enabled and not finished, the window is open in the recipient's zone (else the attempt waits for its next
opening), and nobody is do-not-contact (an account → the row is disqualified; a contact → the next one is tried).
Time is always the runtime clock's, passed into SQL.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import secrets
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from tortoise.connection import connections
from tortoise.expressions import F
from tortoise.transactions import in_transaction

from outboundql import channels, models
from outboundql.cadence import policy, rules, timezones, windows
from outboundql.cadence.settings import Cadence
from outboundql.channels import links
from outboundql.enums import (
    ACTIVE_EXECUTION,
    FINAL_EXECUTION,
    AccountStatus,
    AttemptOutcome,
    AttemptStatus,
    Channel,
    ExecutionState,
    ExecutionStatus,
    SuppressionKind,
    SuppressionSource,
)
from outboundql.services import (
    attempts,
    audit,
    channel_configs,
    delivered_messages,
    delivery_sessions,
    execution,
    planning,
    runtime,
    send_quota,
    sql,
    suppressions,
    webhook_deliveries,
)
from outboundql.services.jobs import JobsUnavailable
from outboundql.services.locks import locked_campaign

log = logging.getLogger(__name__)

#: Attempts one claim takes (one job executes them).
CLAIM_BATCH = 500
#: Claims of `CLAIM_BATCH` attempts that may wait in the job queue for a worker at once, across all processes.
WAITING_CLAIMS = 2
#: Rows a tick plans at most (in batches of `planning.PLAN_BATCH`); the next tick goes on.
PLAN_PER_TICK = 5000
#: Seconds a channel's ``deliver`` may take before the attempt counts as a (retryable) failure: one stuck provider
#: must not hold the rest of its batch past the claim's lease.
DELIVERY_TIMEOUT = 60.0


@dataclass(frozen=True, slots=True)
class Tick:
    planned: int
    claimed: list[int]


async def tick(now: datetime | None = None, *, claim_limit: int | None = None) -> Tick:
    """One pass: claim due attempts batch by batch (`claim_due`), each sent to an ``execute_attempts`` job; plan
    the rows waiting for it; claim again what that made due."""
    now = now or runtime.now()
    claimed = await claim_due(now, claim_limit)  # what is due already goes out while this tick plans
    planned = await plan_started(now)
    if planned:
        claimed += await claim_due(now, claim_limit)
    return Tick(planned, claimed)


async def claim_due(now: datetime, claim_limit: int | None = None) -> list[int]:
    """Claim batch after batch (of ``claim_limit``, by default `CLAIM_BATCH`), each sent to its job, while batches
    come back full and fewer than `WAITING_CLAIMS` batches wait in the queue; the attempts claimed."""
    claim_limit = claim_limit or CLAIM_BATCH
    claimed: list[int] = []
    room = WAITING_CLAIMS * claim_limit - await waiting(now)
    while room > 0:
        limit = min(claim_limit, room)
        token, batch = await claim(now, limit)
        if not batch:
            break
        claimed += batch
        room -= len(batch)
        try:
            await runtime.jobs().execute_attempts(batch, token)
        except JobsUnavailable as exc:
            log.warning("Claimed attempts %s could not be handed to a worker (%s); they wait for a later tick.",
                        batch[:10], exc)
            await models.OutreachAttempt.filter(id__in=batch, claim_token=token, status=AttemptStatus.EXECUTING
                                                ).update(status=AttemptStatus.SCHEDULED, claim_token=None,
                                                         claimed_at=None, updated_at=now)
            claimed = claimed[:-len(batch)]
            break
        if len(batch) < limit:
            break
    return claimed


async def waiting(now: datetime) -> int:
    """Attempts claimed within the lease whose job has not started yet. Older ones are either lost (the queue lost
    them: they must not hold new claims back for long) or behind workers that are far too busy (a claim or two
    more each lease changes little)."""
    return await models.OutreachAttempt.filter(status=AttemptStatus.EXECUTING, heartbeat_at__isnull=True,
                                               claimed_at__gte=now - lease()).count()


async def plan_started(now: datetime) -> int:
    """Mark the eligible rows of live campaigns that plan by themselves, then plan waiting rows (up to
    `PLAN_PER_TICK`)."""
    for campaign in await models.Campaign.filter(execution_state=ExecutionState.LIVE):
        if planning.plans_new_rows(campaign, Cadence.from_stored(campaign.cadence), now):
            await planning.mark_eligible_locked(campaign.id, now)
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
    """How long an execution that started may go without a sign of life before its claim counts as lost."""
    return timedelta(seconds=runtime.settings().attempt_lease_seconds)


def queue_lease() -> timedelta:
    """How long a claim may wait for its job to start before it counts as lost."""
    return 2 * lease()


async def claim(now: datetime, limit: int = CLAIM_BATCH) -> tuple[str, list[int]]:
    """Claim up to ``limit`` due attempts of live campaigns for one execution: the token stamped on them and their
    ids (none: an empty list). Attempts whose claim counts as lost are taken first, then those due, earliest
    first; each kind in one statement that walks the ``(status, due_at)`` index (an ``OR`` of the two would scan
    every attempt ever planned on each claim)."""
    token = secrets.token_hex(16)
    conn = connections.get("default")
    stalled = await _claim_where(conn, token, now, limit, lambda m: (
        f"a.status = {m(AttemptStatus.EXECUTING.value)} AND ((a.heartbeat_at IS NULL AND a.claimed_at < "
        f"{m(now - queue_lease())}) OR a.heartbeat_at < {m(now - lease())})"))
    due = await _claim_where(conn, token, now, limit - len(stalled), lambda m: (
        f"a.status = {m(AttemptStatus.SCHEDULED.value)} AND a.due_at <= {m(now)}")) if len(stalled) < limit else []
    return token, sorted(stalled + due)


#: Binds a value into a statement: the placeholder that stands for it.
Mark = Callable[[Any], str]


async def _claim_where(conn: Any, token: str, now: datetime, limit: int, condition: Callable[[Mark], str]
                       ) -> list[int]:
    """One claiming statement over the attempts ``condition`` picks (it binds its values through the mark it is
    given), earliest due first."""
    values: list[Any] = []

    def mark(value: Any) -> str:  # binds in the order the text names them: SQLite's ? and PostgreSQL's $n alike
        values.append(value)
        return sql.placeholder(conn, len(values))

    update = (f"UPDATE outreach_attempt SET status = {mark(AttemptStatus.EXECUTING.value)}, claimed_at = "
              f"{mark(now)}, claim_token = {mark(token)}, heartbeat_at = NULL, updated_at = {mark(now)} ")
    due = (f"SELECT a.id FROM outreach_attempt a JOIN campaign c ON c.id = a.campaign_id "
           f"JOIN campaign_account ca ON ca.id = a.campaign_account_id WHERE {condition(mark)} "
           f"AND c.execution_state = {mark(ExecutionState.LIVE.value)} AND NOT ca.execution_disabled "
           f"ORDER BY a.due_at, a.id LIMIT {mark(limit)}")
    if sql.is_postgres(conn):
        # Skips rows another claim holds; RETURNING through a CTE (tortoise drops an UPDATE's RETURNING rows).
        text = f"WITH claimed AS ({update}WHERE id IN ({due} FOR UPDATE OF a SKIP LOCKED) RETURNING id) " \
               "SELECT id FROM claimed"
    else:  # SQLite: one writer at a time, and a statement outside a transaction is its own
        text = f"{update}WHERE id IN ({due}) RETURNING id"
    return [int(r["id"]) for r in await conn.execute_query_dict(text, values)]


async def beat(ids: Sequence[int], token: str, at: datetime) -> None:
    """The execution of claim ``token`` is alive at ``at`` (for those of ``ids`` it still holds)."""
    if ids:
        await models.OutreachAttempt.filter(id__in=list(ids), claim_token=token,
                                            status=AttemptStatus.EXECUTING).update(heartbeat_at=at)


@dataclass(slots=True)
class Claimed:
    """What executing reads of a claimed attempt, its row, its account and its contact (one joined SELECT)."""

    id: int
    project_id: int
    campaign_id: int
    campaign_account_id: int
    contact_id: int | None
    channel: Channel
    step: int
    attempt_number: int
    subject: str | None
    body: str
    address: str | None
    account_id: int
    execution_status: ExecutionStatus
    execution_disabled: bool
    account_name: str
    account_status: AccountStatus
    account_time_zone: str | None
    country: str | None
    contact_name: str | None
    contact_do_not_contact: bool | None
    contact_time_zone: str | None
    provider_id: str | None
    paused_until: datetime | None
    """The row's pause (an out-of-office reply): nothing goes out before it."""

    @property
    def delivery_key(self) -> str:
        return f"attempt-{self.id}"


#: The SELECT list of `Claimed`, in its order.
CLAIMED_COLUMNS = (
    "a.id, a.project_id, a.campaign_id, a.campaign_account_id, a.contact_id, a.channel, a.step, a.attempt_number, "
    "a.subject, a.body, a.address, ca.account_id, ca.execution_status, ca.execution_disabled, "
    "acc.name AS account_name, acc.status AS account_status, acc.time_zone AS account_time_zone, acc.country, "
    "ct.name AS contact_name, ct.do_not_contact AS contact_do_not_contact, ct.time_zone AS contact_time_zone, "
    "a.provider_id, ca.paused_until")
ROW_FIELDS = ("id", "account_id", "execution_status", "execution_disabled")
PAUSED_UNTIL = models.CampaignAccount._meta.fields_map["paused_until"]


async def execute(ids: Sequence[int], token: str, now: datetime | None = None) -> list[int]:
    """Execute the attempts of one claim (those still carrying ``token``); the ids executed."""
    now = now or runtime.now()
    pulse = Pulse(ids, token, now)
    await beat(ids, token, now)  # started: from now on the claim counts as lost only if the beats stop
    groups: dict[int, list[Claimed]] = defaultdict(list)
    conn = connections.get("default")
    for values in await conn.execute_query_dict(
            f"SELECT {CLAIMED_COLUMNS} FROM outreach_attempt a "
            "JOIN campaign_account ca ON ca.id = a.campaign_account_id JOIN account acc ON acc.id = ca.account_id "
            f"LEFT JOIN contact ct ON ct.id = a.contact_id WHERE a.id IN ({sql.int_list(ids)}) "
            f"AND a.claim_token = {sql.placeholder(conn, 1)} AND a.status = {sql.placeholder(conn, 2)} ORDER BY a.id",
            [token, AttemptStatus.EXECUTING.value]):
        values["channel"] = Channel(values["channel"])
        values["execution_status"] = ExecutionStatus(values["execution_status"])
        values["execution_disabled"] = bool(values["execution_disabled"])  # SQLite answers 0 or 1
        values["account_status"] = AccountStatus(values["account_status"])
        if values["contact_do_not_contact"] is not None:
            values["contact_do_not_contact"] = bool(values["contact_do_not_contact"])
        values["paused_until"] = PAUSED_UNTIL.to_python_value(values["paused_until"])  # SQLite answers text
        attempt = Claimed(**values)
        groups[attempt.campaign_id].append(attempt)
    executed: list[int] = []
    for campaign_id, group in groups.items():
        executed += await _execute_campaign(campaign_id, group, token, now, pulse)
    return executed


@dataclass(slots=True)
class Pulse:
    """Keeps the execution of a claim visibly alive: a beat whenever a quarter of the lease passed since the last."""

    ids: Sequence[int]
    token: str
    last: datetime

    async def __call__(self) -> None:
        at = runtime.now()
        if at - self.last >= lease() / 4:
            self.last = at
            await beat(self.ids, self.token, at)


async def _execute_campaign(campaign_id: int, group: list[Claimed], token: str, now: datetime, pulse: Pulse
                            ) -> list[int]:
    campaign = await models.Campaign.get(id=campaign_id)
    cadence = Cadence.from_stored(campaign.cadence)
    window = cadence.window

    @functools.cache
    def opening(zone: ZoneInfo) -> datetime:
        """The window's next opening from now in ``zone`` (now when it is open), once per zone."""
        return windows.next_allowed(now, window, zone)

    def zone_of(attempt: Claimed) -> ZoneInfo:
        return timezones.recipient_zone(window.time_zone, window.recipient_local_time, attempt.contact_time_zone,
                                        attempt.account_time_zone, attempt.country)

    release: dict[int, datetime | None] = {}  # back to scheduled, due at (None: when it was)
    deferred: dict[int, tuple[datetime, str]] = {}  # a channel said not now: back to scheduled, due at, why
    cancel: dict[int, str] = {}  # attempt → why
    finish: dict[int, tuple[int, ExecutionStatus]] = {}  # attempt → its row, and the row's final status
    passed_on: list[int] = []  # attempts whose contact turned out do-not-contact
    failed: list[tuple[int, channels.DeliveryFailed]] = []
    handed: list[Claimed] = []
    delivered: list[tuple[Claimed, channels.Delivered, models.Message | None]] = []
    went_out: list[tuple[Claimed, channels.Delivered]] = []  # delivered now: logged (committed) before settling
    provider_ids: dict[int, str] = {}  # attempt → what the channel's provider calls it
    used: dict[int, str] = {}  # attempt → the key of the channel that took it
    barred = await suppressions.suppressed(  # one lookup for the batch: addresses suppressed since planning
        campaign.project_id, emails=[a.address for a in group if a.address and "@" in a.address],
        phones=[a.address for a in group if a.address and "@" not in a.address])
    through = await channel_configs.for_delivery(campaign.project_id, {a.channel.value for a in group})
    threads = await _threads(campaign_id, group)
    language = campaign.communication_language or await _product_language(campaign) or "en"
    logged = await _logged(campaign.project_id, group)
    quota = send_quota.DatabaseQuota(campaign.project_id, now)
    async with delivery_sessions.Sessions() as sessions:  # a batch-level connection per configuration
        for attempt in group:
            if campaign.execution_state is ExecutionState.STOPPED or attempt.execution_status in FINAL_EXECUTION:
                cancel[attempt.id] = "The plan stopped before this attempt was executed."
            elif campaign.execution_state is not ExecutionState.LIVE or attempt.execution_disabled:
                release[attempt.id] = None  # paused meanwhile: it waits where it was
            elif attempt.delivery_key in logged:  # delivered by an execution that died before settling it: never twice
                used[attempt.id] = through[attempt.channel.value][0].key
                delivered.append((attempt, channels.Delivered(provider_id=attempt.provider_id,
                                                              note="Delivered before; settled now."),
                                  logged[attempt.delivery_key]))
            elif planning.ended(cadence, now):
                cancel[attempt.id] = "The campaign's end time passed before this attempt was executed."
                finish[attempt.id] = (attempt.campaign_account_id, ExecutionStatus.COMPLETED)
            elif attempt.paused_until is not None and attempt.paused_until > now:  # due meanwhile (executeApproved)
                release[attempt.id] = windows.next_allowed(attempt.paused_until, window, zone_of(attempt))
            elif (opens := opening(zone_of(attempt))) != now:
                release[attempt.id] = opens  # outside the window: it waits for the next opening
            elif attempt.account_status is AccountStatus.DO_NOT_CONTACT:
                cancel[attempt.id] = f"{attempt.account_name} is marked do_not_contact."
                finish[attempt.id] = (attempt.campaign_account_id, ExecutionStatus.DISQUALIFIED)
            elif attempt.contact_do_not_contact:
                cancel[attempt.id] = f"{attempt.contact_name} is marked do not contact."
                passed_on.append(attempt.id)
            elif barred.address(attempt.address):
                cancel[attempt.id] = "The address is on the project's suppression list."
                passed_on.append(attempt.id)
            else:
                channel, configured = through[attempt.channel.value]
                used[attempt.id] = channel.key
                result = await _deliver(channel, configured, sessions, channels.Delivery(
                    attempt_id=attempt.id, delivery_key=attempt.delivery_key, project_id=attempt.project_id,
                    campaign_id=campaign.id, channel=attempt.channel.value, address=attempt.address,
                    contact_name=attempt.contact_name, account_name=attempt.account_name,
                    subject=attempt.subject, body=attempt.body, step=attempt.step,
                    attempt_number=attempt.attempt_number,
                    language=language, thread=threads.get((attempt.contact_id, attempt.channel), ()),
                    unsubscribe_url=links.url(links.UNSUBSCRIBE, attempt.id) if attempt.channel is Channel.EMAIL
                    else None,
                    result_url=links.url(links.RESULT, attempt.id), quota=quota))
                await pulse()
                if isinstance(result, channels.DeliveryFailed):
                    failed.append((attempt.id, result))
                elif isinstance(result, channels.Deferred):
                    until = rules.utc(result.until) or now
                    deferred[attempt.id] = (max(until, windows.next_allowed(max(until, now), window, zone_of(attempt))),
                                            result.reason)
                elif isinstance(result, channels.Delivered):
                    went_out.append((attempt, result))
                else:
                    handed.append(attempt)
                    if result.provider_id:
                        provider_ids[attempt.id] = result.provider_id
    if went_out:
        # What went out is on record before anything else: its provider id (a follow-up answers it) and its message
        # (an execution that dies before settling leaves it for the next claim to settle, never to send again), in
        # one transaction for the batch.
        async with in_transaction():
            for attempt, result in went_out:
                if result.provider_id:
                    await models.OutreachAttempt.filter(id=attempt.id, claim_token=token).update(
                        provider_id=result.provider_id)
            logged_now = await delivered_messages.log_delivered(campaign_id, [delivered_messages.Sent(
                attempt_id=attempt.id, campaign_account_id=attempt.campaign_account_id, contact_id=attempt.contact_id,
                channel=attempt.channel, subject=attempt.subject, body=attempt.body,
                delivery_key=attempt.delivery_key, outcome=_outcome(result), notes=result.note)
                for attempt, result in went_out])
            delivered += [(attempt, result, logged_now.get(attempt.id)) for attempt, result in went_out]
    mine = models.OutreachAttempt.filter(claim_token=token, status=AttemptStatus.EXECUTING)
    executed: list[int] = []
    async with in_transaction() as conn:
        # Under the lock every writer of these rows takes, what a person changed meanwhile wins: a campaign paused
        # or a row disabled since the checks above takes its attempt back, a row finished cancels it.
        campaign = await locked_campaign(campaign_id)
        if handed:
            fresh = await _rows_of(conn, handed)
            kept: list[Claimed] = []
            for attempt in handed:
                row = fresh[attempt.campaign_account_id]
                if campaign.execution_state is ExecutionState.STOPPED or ExecutionStatus(
                        row["execution_status"]) in FINAL_EXECUTION:
                    cancel[attempt.id] = "The plan stopped before this attempt was executed."
                elif campaign.execution_state is not ExecutionState.LIVE or row["execution_disabled"]:
                    release[attempt.id] = None
                else:
                    kept.append(attempt)
            handed = kept
        for attempt_id, due_at in release.items():
            await mine.filter(id=attempt_id).update(status=AttemptStatus.SCHEDULED, claim_token=None,
                                                    claimed_at=None, heartbeat_at=None, updated_at=now,
                                                    **({"due_at": due_at} if due_at else {}))
        for attempt_id, (due_at, why) in deferred.items():
            await mine.filter(id=attempt_id).update(status=AttemptStatus.SCHEDULED, claim_token=None,
                                                    claimed_at=None, heartbeat_at=None, updated_at=now, due_at=due_at,
                                                    error=f"Deferred by the {used[attempt_id]} channel: {why}")
        settled: set[int] = set()  # attempts cancelled here (another claim of a stalled one may have been first)
        for attempt_id, why in cancel.items():
            if await mine.filter(id=attempt_id).update(status=AttemptStatus.CANCELLED, error=why, settled_at=now,
                                                       updated_at=now):
                settled.add(attempt_id)
        for attempt_id, (row_id, status) in finish.items():
            if attempt_id not in settled:
                continue
            await execution.cancel_pending([row_id], "The plan stopped.", now)
            await models.CampaignAccount.filter(id=row_id, execution_status__in=list(ACTIVE_EXECUTION)).update(
                execution_status=status, updated_at=now)
        advancing = [a for a in group if (a.id in passed_on and a.id in settled) or a.id in dict(failed)]
        plan = await planning.CampaignPlan.of(campaign) if advancing or delivered else None
        if advancing:  # what planning the next attempt needs (rare: a contact turned do-not-contact, a failure)
            people = await planning.people_of(a.account_id for a in advancing)
        for attempt_id in passed_on:
            if attempt_id not in settled:
                continue
            assert plan is not None
            skipped = await models.OutreachAttempt.get(id=attempt_id)
            row_model = await models.CampaignAccount.get(id=skipped.campaign_account_id)
            await attempts.advance(plan, row_model, people[row_model.account_id], skipped, policy.Next.NEXT_CONTACT,
                                   now, skipped=True)
        for attempt_id, failure in failed:
            outcome = AttemptOutcome.BOUNCED if failure.bounced else AttemptOutcome.FAILED
            if not await mine.filter(id=attempt_id).update(status=AttemptStatus.FAILED, error=failure.error,
                                                           outcome=outcome, executed_at=now,
                                                           settled_at=now, updated_at=now):
                continue
            assert plan is not None
            gone = await models.OutreachAttempt.get(id=attempt_id)
            await models.CampaignAccount.filter(id=gone.campaign_account_id).update(
                attempts_made=F("attempts_made") + 1)
            row_model = await models.CampaignAccount.get(id=gone.campaign_account_id)
            if failure.bounced:
                await attempts.mark_bounced(campaign, row_model)
                if gone.address:  # the address itself was refused: nobody is sent to it again
                    kind = SuppressionKind.EMAIL if "@" in gone.address else SuppressionKind.PHONE
                    await suppressions.add(campaign.project_id, [suppressions.Entry(
                        kind, gone.address, failure.error[:suppressions.MAX_REASON])], SuppressionSource.BOUNCE.value,
                        None)
            decision = (policy.after_result(plan.cadence, gone.attempt_number, AttemptOutcome.FAILED, None)
                        if failure.retryable and not failure.bounced else policy.Next.NEXT_CONTACT)
            await attempts.advance(plan, row_model, people[row_model.account_id], gone, decision, now)
            await audit.record(project_id=gone.project_id, actor=None, action="attempt.execute", row=gone,
                               after={"channel": used.get(attempt_id, channels.LOG.key), "outcome": outcome.value,
                                      "error": failure.error, "next": decision.value})
            executed.append(attempt_id)
        if delivered:  # read for the whole batch: the attempts (locked) and the people of their accounts
            still = {a.id: a for a in await mine.filter(id__in=[a.id for a, _, _ in delivered]).select_for_update()}
            reachable = await planning.people_of(a.account_id for a, _, _ in delivered if a.id in still)
        results: list[attempts.Result] = []
        for attempt, result, message in delivered:
            locked = still.get(attempt.id)
            if locked is None:  # settled by someone else meanwhile (a stalled claim taken again)
                continue
            locked.provider_id = result.provider_id
            locked.error = None  # type: ignore[assignment]  # a deferral's reason no longer holds (a nullable field)
            results.append(attempts.Result(locked, _outcome(result), notes=result.note, message=message,
                                           audit_after={"channel": used[attempt.id]}))
        if results:
            made = Counter(r.attempt.campaign_account_id for r in results)
            for times in sorted(set(made.values())):  # one statement: a row has one attempt at a time
                await models.CampaignAccount.filter(id__in=sorted(k for k, n in made.items() if n == times)).update(
                    attempts_made=F("attempts_made") + times)
            await attempts.settle_all(campaign, results, now, actor=None, plan=plan, people=reachable)
            executed += [r.attempt.id for r in results]
        if handed:
            executed += await _handed(conn, campaign, handed, token, now, used, provider_ids)
    await execution.changed(campaign_id, [a.campaign_account_id for a in group], [a.id for a in group])
    await webhook_deliveries.record_attempts_settled(campaign.project_id, executed)
    return sorted(executed)


async def _deliver(channel: channels.OutreachChannel, configured: channels.Configured,
                   sessions: delivery_sessions.Sessions, delivery: channels.Delivery) -> channels.DeliveryResult:
    """What ``channel`` answers (through the batch's session of it, when it has sessions); a channel that raises (or
    answers something else) failed, retryably, saying so: the attempt is never lost."""
    try:
        async with asyncio.timeout(DELIVERY_TIMEOUT):
            session = await sessions.of(channel, configured)
            result = await (session.deliver(delivery) if session is not None else channel.deliver(delivery, configured))
    except TimeoutError:
        log.warning("The %s channel did not answer attempt %s within %s s.", channel.key, delivery.attempt_id,
                    DELIVERY_TIMEOUT)
        return channels.DeliveryFailed(error=f"The {channel.key} channel did not answer within {DELIVERY_TIMEOUT:g} "
                                       "seconds.", retryable=True)
    except Exception as exc:  # a plugin's bug or an outage it did not foresee
        log.exception("The %s channel raised delivering attempt %s.", channel.key, delivery.attempt_id)
        return channels.DeliveryFailed(error=f"The {channel.key} channel failed: {type(exc).__name__}: {exc}",
                                       retryable=True)
    if not isinstance(result, (channels.Delivered, channels.AwaitingResult, channels.Deferred,
                               channels.DeliveryFailed)):
        return channels.DeliveryFailed(error=f"The {channel.key} channel answered {type(result).__name__}, not a "
                                       "delivery result.", retryable=True)
    return result


def _outcome(result: channels.Delivered) -> AttemptOutcome:
    try:
        outcome = AttemptOutcome(result.outcome)
    except ValueError:
        return AttemptOutcome.SENT
    return outcome if outcome is not AttemptOutcome.FAILED else AttemptOutcome.SENT


async def _product_language(campaign: models.Campaign) -> str | None:
    product = await models.Product.filter(id=campaign.product_id).only("id", "communication_language").first()
    return product.communication_language if product else None


async def _threads(campaign_id: int, group: list[Claimed]) -> dict[tuple[int | None, Channel], tuple[str, ...]]:
    """Per contact and message channel, the provider ids of what went to them earlier in this campaign, oldest
    first (one query for the batch)."""
    contacts = {a.contact_id for a in group if a.contact_id is not None}
    if not contacts:
        return {}
    threads: dict[tuple[int | None, Channel], list[str]] = defaultdict(list)
    for contact_id, channel, provider_id in await models.OutreachAttempt.filter(
            campaign_id=campaign_id, contact_id__in=sorted(contacts), provider_id__isnull=False,
            id__not_in=[a.id for a in group]).order_by("id").values_list("contact_id", "channel", "provider_id"):
        threads[(contact_id, Channel(channel))].append(provider_id)
    return {key: tuple(ids) for key, ids in threads.items()}


async def _logged(project_id: int, group: list[Claimed]) -> dict[str, models.Message]:
    """The messages already logged for these attempts (by their delivery keys; one query): an execution delivered
    them and died before settling them."""
    return {m.idempotency_key: m for m in await models.Message.filter(
        project_id=project_id, idempotency_key__in=[a.delivery_key for a in group]) if m.idempotency_key}


async def _rows_of(conn: Any, claimed: list[Claimed]) -> dict[int, dict[str, Any]]:
    """What executing reads of the claimed attempts' rows (`ROW_FIELDS`), by id."""
    return {r["id"]: r for r in await conn.execute_query_dict(
        f"SELECT {', '.join(ROW_FIELDS)} FROM campaign_account "
        f"WHERE id IN ({sql.int_list(a.campaign_account_id for a in claimed)})")}


async def _handed(conn: Any, campaign: models.Campaign, handed: list[Claimed], token: str, now: datetime,
                  used: dict[int, str], provider_ids: dict[int, str]) -> list[int]:
    """Settle the attempts a channel took (inside the transaction): awaiting their result, each once (only while
    it still carries this claim's token), their rows executing with one more attempt made, each audited."""
    ids = [a.id for a in handed]
    p = functools.partial(sql.placeholder, conn)
    moved, _ = await conn.execute_query(
        f"UPDATE outreach_attempt SET status = {p(1)}, executed_at = {p(2)}, updated_at = {p(3)}, error = NULL "
        f"WHERE id IN ({sql.int_list(ids)}) AND claim_token = {p(4)} AND status = {p(5)}",
        [AttemptStatus.AWAITING_RESULT.value, now, now, token, AttemptStatus.EXECUTING.value])
    if moved != len(ids):  # some were settled by someone else meanwhile: which ones moved here?
        ids = await sql.column(models.OutreachAttempt.filter(
            id__in=ids, claim_token=token, status=AttemptStatus.AWAITING_RESULT, executed_at=now
        ).values_list("id", flat=True))
    done = set(ids)
    for attempt_id in sorted(done & set(provider_ids)):
        await conn.execute_query(f"UPDATE outreach_attempt SET provider_id = {p(1)} WHERE id = {p(2)}",
                                 [provider_ids[attempt_id], attempt_id])
    active = ", ".join(f"'{s.value}'" for s in sorted(ACTIVE_EXECUTION))  # constants of this module
    await conn.execute_query(
        f"UPDATE campaign_account SET execution_status = {p(1)}, attempts_made = attempts_made + 1, "
        f"updated_at = {p(2)} WHERE id IN ({sql.int_list(a.campaign_account_id for a in handed if a.id in done)}) "
        f"AND execution_status IN ({active})", [ExecutionStatus.EXECUTING.value, now])
    await sql.insert_rows(conn, models.AuditEvent, [
        {"project_id": campaign.project_id, "actor_id": None, "action": "attempt.execute",
         "object_type": "OutreachAttempt", "object_id": a.id,
         "after": {"channel": used[a.id]}, "created_at": now, **audit.origin_columns()}
        for a in handed if a.id in done])
    return sorted(done)
