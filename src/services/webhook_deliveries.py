"""The outbox of event webhooks: an event becomes one delivery row per subscribed endpoint, and workers POST
the due rows, signed (Standard Webhooks), retrying failures with backoff until they succeed or give up.

Recording: the services publish their live events after their change committed (`outboundql.services.events`);
the same calls record the deliveries (`record`, `record_campaign_event`), so an event that reaches the
``campaignEvents`` subscription is recorded once, after commit, with one extra statement (the project's
enabled endpoints) and a second only when some endpoint subscribes. A failure to record is logged and never
undoes the change.

Sending: `tick` claims due rows (PostgreSQL: ``FOR UPDATE SKIP LOCKED``; a claim moves ``next_attempt_at`` one
`LEASE` ahead, so a lost job's rows are claimed again once it ends) and hands each batch to the
``deliver_webhooks`` job, which calls `deliver`. A try is a POST with explicit timeouts; a 2xx answer
delivers, anything else (an error, a timeout, a refused connection) schedules the next try
`backoff(attempts)` later (exponential, with jitter; time from the runtime clock, nothing sleeps). Redirects
are not followed (a 3xx is a failure), and only the start of a failed answer's body is read. After
`MAX_ATTEMPTS` tries the row is FAILED. An endpoint is disabled, with the reason visible, when a delivery
runs out of tries with no success of any of its deliveries in between (`consecutive_failures` reached
`MAX_ATTEMPTS`): it has then failed for about a day (the sum of the backoff schedule). Its pending rows wait;
re-enabling it sends them. `redeliver` makes a new row of the same event (same ``webhook-id``), due now.
"""

from __future__ import annotations

import base64
import functools
import json
import logging
import random
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from tortoise import connections
from tortoise.expressions import F, Subquery

from outboundql import models
from outboundql.enums import AttemptStatus, Role
from outboundql.errors import Conflict
from outboundql.models.webhooks import WebhookDeliveryStatus
from outboundql.services import runtime, secret_box, sql
from outboundql.services.access import Access
from outboundql.services.jobs import JobsUnavailable
from outboundql.webhooks import outbound, signing

log = logging.getLogger(__name__)

EVENT_TYPES: dict[str, str] = {
    "campaign.updated": "A campaign was edited (name, dates, cadence, expenses…).",
    "campaign.accounts_changed": "Accounts of a campaign were added, reviewed, removed, scored or moved along.",
    "campaign.execution_changed": "A campaign's outreach moved: going live, pausing, planning, executing, results.",
    "campaign.scoring_progress": "A campaign's scoring run started, scored a batch, or ended.",
    "scoring_run.finished": "A campaign's scoring run ended (COMPLETED or FAILED).",
    "attempt.result_recorded": "The result of an outreach attempt (a call's outcome, a bounce…) was recorded.",
    "message.received": "An inbound message (a reply) was logged on a campaign account.",
    "import_job.finished": "An import job ended (COMPLETED or FAILED).",
}
"""Every event an endpoint can subscribe to, with what it means: the ``campaignEvents`` kinds as
``campaign.<kind>``, and the ends and results integrators wait for."""

_CAMPAIGN_KINDS = {"campaign_updated": "campaign.updated", "accounts_changed": "campaign.accounts_changed",
                   "execution_changed": "campaign.execution_changed",
                   "scoring_progress": "campaign.scoring_progress"}
_FINISHED = ("completed", "failed")

MAX_ATTEMPTS = 8
"""Tries of one delivery: the first, then 7 retries over about a day (see `backoff`)."""
BASE_BACKOFF = timedelta(seconds=30)
MAX_BACKOFF = timedelta(hours=12)
JITTER = 0.2
"""A retry waits its backoff ± this fraction, so the deliveries failed together do not retry together."""
LEASE = timedelta(minutes=2)
"""How long a claim holds its rows: a job that did not settle them by then (a killed worker) loses them."""
CLAIM_BATCH = 50
CLAIMS_PER_TICK = 20
CONNECT_TIMEOUT = 5.0
REQUEST_TIMEOUT = 10.0
ERROR_EXCERPT = 500
"""Characters kept of an answer's body or of an error."""


def backoff(attempts: int, rand: float | None = None) -> timedelta:
    """The wait after the ``attempts``-th failed try: 30 s × 4^(attempts-1), at most 12 h, ± 20 %
    (30 s, 2 min, 8 min, 32 min, 2 h 8 min, 8 h 32 min, 12 h: about 23 h in all)."""
    factor: int = 4 ** max(attempts - 1, 0)
    base = min(BASE_BACKOFF * factor, MAX_BACKOFF)
    spread = (random.random() if rand is None else rand) * 2 - 1  # jitter, not a secret
    return base * (1 + JITTER * spread)


def global_id(type_name: str, pk: int) -> str:
    """The GraphQL id of a row (what integrators read back through the API)."""
    return base64.b64encode(f"{type_name}:{pk}".encode()).decode("ascii")


def new_event_id() -> str:
    return "msg_" + secrets.token_hex(12)


def body_of(payload: dict[str, Any]) -> bytes:
    """The bytes sent (and signed) for a stored payload: the same for every try."""
    return json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()


# --- recording ---------------------------------------------------------------------------------------------


async def record(project_id: int | None, event_type: str, data: dict[str, Any], *,
                 campaign_id: int | None = None, project_of: Subquery | None = None) -> list[models.WebhookDelivery]:
    """Record ``event_type`` for the enabled endpoints of the project (given, the campaign's, or the one
    ``project_of`` selects) that subscribe to it: one delivery each, due now, sharing one event id. Call after
    the change committed."""
    if project_of is None:
        project_of = Subquery(models.Campaign.filter(id=campaign_id).values("project_id"))
    subscribed = await _subscribed(models.WebhookEndpoint.filter(
        project_id=project_id if project_id is not None else project_of), event_type)
    if not subscribed:
        return []
    now = runtime.now()
    event_id = new_event_id()
    payload = {"type": event_type, "timestamp": now.isoformat(), "data": data}
    rows = [models.WebhookDelivery(project_id=e.project_id, endpoint_id=e.id, event_id=event_id,
                                   event_type=event_type, payload=payload, next_attempt_at=now) for e in subscribed]
    await models.WebhookDelivery.bulk_create(rows)
    return rows


async def _subscribed(endpoints: Any, event_type: str) -> list[models.WebhookEndpoint]:
    """Those of ``endpoints`` (a queryset) that are enabled and subscribe to ``event_type``: one statement."""
    return [e for e in await endpoints.filter(enabled=True).only("id", "project_id", "events")
            if event_type in e.events]


async def safely(project_id: int | None, event_type: str, data: dict[str, Any], *,
                 campaign_id: int | None = None, project_of: Subquery | None = None) -> None:
    """`record`, logging a failure instead of raising it: the change itself is saved already."""
    try:
        await record(project_id, event_type, data, campaign_id=campaign_id, project_of=project_of)
    except Exception:
        log.warning("Webhook event %s was not recorded; the change itself is saved.", event_type, exc_info=True)


async def record_campaign_event(campaign_id: int, kind: str, data: dict[str, Any]) -> None:
    """A ``campaignEvents`` event (see `outboundql.services.events.publish_campaign_event`) for webhooks:
    ``campaign.<kind>``."""
    event_type = _CAMPAIGN_KINDS.get(kind)
    if event_type is None:
        return
    body: dict[str, Any] = {"campaignId": global_id("Campaign", campaign_id)}
    if kind == "execution_changed":
        body["campaignAccountIds"] = [global_id("CampaignAccount", int(i))
                                      for i in data.get("campaign_account_ids", [])]
        body["attemptIds"] = [global_id("OutreachAttempt", int(i)) for i in data.get("attempt_ids", [])]
    if kind == "scoring_progress" and "run_id" in data:
        body.update(runId=global_id("ScoringRun", int(data["run_id"])), status=str(data.get("status")).upper(),
                    done=data.get("done"), total=data.get("total"), failed=data.get("failed"))
    await safely(None, event_type, body, campaign_id=campaign_id)


async def record_scoring_finished(run_id: int) -> None:
    """``scoring_run.finished``: called once by whoever ended the run (`scoring_runs`), after commit."""
    run = await models.ScoringRun.get_or_none(id=run_id)
    if run is None:
        return
    await safely(run.project_id, "scoring_run.finished", {
        "campaignId": global_id("Campaign", run.campaign_id), "runId": global_id("ScoringRun", run.id),
        "status": run.status.value.upper(), "done": run.done, "total": run.total, "failed": run.failed})


async def record_import_finished(import_job_id: int, status: str, done: int, total: int) -> None:
    """``import_job.finished`` when an import job's progress says it ended."""
    if status not in _FINISHED:
        return
    data = {"importJobId": global_id("ImportJob", import_job_id), "status": status.upper(), "done": done,
            "total": total}
    await safely(None, "import_job.finished", data,
                 project_of=Subquery(models.ImportJob.filter(id=import_job_id).values("project_id")))


def _attempt_data(attempt: models.OutreachAttempt) -> dict[str, Any]:
    return {
        "attemptId": global_id("OutreachAttempt", attempt.id),
        "campaignId": global_id("Campaign", attempt.campaign_id),
        "campaignAccountId": global_id("CampaignAccount", attempt.campaign_account_id),
        "channel": attempt.channel.value.upper(), "attemptNumber": attempt.attempt_number,
        "outcome": attempt.outcome.value.upper() if attempt.outcome else None, "goalAchieved": attempt.goal_achieved,
    }


async def record_attempt_result(attempt: models.OutreachAttempt) -> None:
    """``attempt.result_recorded``: a result of ``attempt`` was recorded (after commit)."""
    await safely(attempt.project_id, "attempt.result_recorded", _attempt_data(attempt))


async def record_attempts_settled(project_id: int, attempt_ids: Sequence[int]) -> None:
    """``attempt.result_recorded`` for each of ``attempt_ids`` that its channel settled as it executed it (DONE:
    delivered, or FAILED), after commit: one event each. Costs one statement when no endpoint subscribes."""
    if not attempt_ids:
        return
    try:
        endpoints = await _subscribed(models.WebhookEndpoint.filter(project_id=project_id),
                                      "attempt.result_recorded")
        if not endpoints:
            return
        settled = await models.OutreachAttempt.filter(
            id__in=list(attempt_ids), status__in=[AttemptStatus.DONE, AttemptStatus.FAILED]).order_by("id")
        now = runtime.now()
        rows: list[models.WebhookDelivery] = []
        for attempt in settled:
            payload = {"type": "attempt.result_recorded", "timestamp": now.isoformat(), "data": _attempt_data(attempt)}
            event_id = new_event_id()
            rows += [models.WebhookDelivery(project_id=e.project_id, endpoint_id=e.id, event_id=event_id,
                                            event_type="attempt.result_recorded", payload=payload,
                                            next_attempt_at=now) for e in endpoints]
        if rows:
            await models.WebhookDelivery.bulk_create(rows)
    except Exception:
        log.warning("Webhook events of settled attempts %s were not recorded; the attempts are saved.",
                    list(attempt_ids)[:10], exc_info=True)


async def record_message_received(message: models.Message, row: models.CampaignAccount) -> None:
    """``message.received``: an inbound message (a reply) was logged on campaign account ``row`` (after commit)."""
    await safely(message.project_id, "message.received", {
        "messageId": global_id("Message", message.id), "campaignId": global_id("Campaign", row.campaign_id),
        "campaignAccountId": global_id("CampaignAccount", row.id),
        "accountId": global_id("Account", row.account_id),
        "channel": message.channel.value.upper(),
        "sentAt": message.sent_at.isoformat() if message.sent_at else None,
    })


# --- sending -----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Tick:
    claimed: list[int]


async def tick(now: datetime | None = None, *, claim_limit: int = CLAIM_BATCH) -> Tick:
    """Claim the due deliveries batch by batch (while batches come back full, up to `CLAIMS_PER_TICK`), each
    handed to a ``deliver_webhooks`` job. A job queue that is down leaves its batch claimed: the lease gives it
    to a later tick."""
    now = now or runtime.now()
    claimed: list[int] = []
    for _ in range(CLAIMS_PER_TICK):
        token, batch = await claim(now, claim_limit)
        if not batch:
            break
        claimed += batch
        try:
            await runtime.jobs().deliver_webhooks(batch, token)
        except JobsUnavailable as exc:
            log.warning("Claimed webhook deliveries %s could not be handed to a worker (%s); a later tick claims "
                        "them again once their lease ends.", batch[:10], exc)
            break
        if len(batch) < claim_limit:
            break
    return Tick(claimed)


async def deliver_due(now: datetime | None = None, *, claim_limit: int = CLAIM_BATCH) -> list[int]:
    """Claim and deliver one batch in this task (no job): what a script or a test runs."""
    token, batch = await claim(now or runtime.now(), claim_limit)
    if batch:
        await deliver(batch, token)
    return batch


async def claim(now: datetime, limit: int = CLAIM_BATCH) -> tuple[str, list[int]]:
    """Claim up to ``limit`` due deliveries of enabled endpoints, earliest first, in one statement: the token
    stamped on them and their ids. Their ``next_attempt_at`` moves one `LEASE` ahead meanwhile."""
    token = secrets.token_hex(16)
    conn = connections.get("default")
    p = functools.partial(sql.placeholder, conn)
    values: list[Any] = [token, now + LEASE, now, WebhookDeliveryStatus.PENDING.value, now, limit]
    due = ("SELECT d.id FROM webhook_delivery d JOIN webhook_endpoint e ON e.id = d.endpoint_id "
           f"WHERE d.status = {p(4)} AND d.next_attempt_at <= {p(5)} AND e.enabled "
           f"ORDER BY d.next_attempt_at, d.id LIMIT {p(6)}")
    update = f"UPDATE webhook_delivery SET claim_token = {p(1)}, next_attempt_at = {p(2)}, updated_at = {p(3)} "
    if sql.is_postgres(conn):
        # Skips rows another claim holds; RETURNING through a CTE (tortoise drops an UPDATE's RETURNING rows).
        text = f"WITH claimed AS ({update}WHERE id IN ({due} FOR UPDATE OF d SKIP LOCKED) RETURNING id) " \
               "SELECT id FROM claimed"
    else:  # SQLite: one writer at a time, and a statement outside a transaction is its own
        text = f"{update}WHERE id IN ({due}) RETURNING id"
    return token, sorted(int(r["id"]) for r in await conn.execute_query_dict(text, values))


async def deliver(delivery_ids: Sequence[int], claim_token: str) -> None:
    """Try the deliveries of one claim (those still under ``claim_token``: a late or duplicate job does
    nothing), one POST each."""
    rows = await models.WebhookDelivery.filter(id__in=list(delivery_ids), claim_token=claim_token,
                                               status=WebhookDeliveryStatus.PENDING
                                               ).select_related("endpoint").order_by("id")
    if not rows:
        return
    timeout = httpx.Timeout(REQUEST_TIMEOUT, connect=CONNECT_TIMEOUT)
    async with outbound.client(timeout, private_allowed=runtime.settings().webhook_private_addresses) as client:
        for row in rows:
            await _try(client, row, claim_token)


async def _try(client: httpx.AsyncClient, row: models.WebhookDelivery, claim_token: str) -> None:
    endpoint = row.endpoint
    now = runtime.now()
    body = body_of(row.payload)
    status: int | None = None
    try:
        secret = secret_box.open_(endpoint.secret, f"webhook:{endpoint.id}")
        request = client.build_request("POST", endpoint.url, content=body,
                                       headers=signing.headers(secret, row.event_id, now, body))
        response = await client.send(request, stream=True)
        try:
            status = response.status_code
            error = None if response.is_success else _excerpt(f"HTTP {status}: {await _start_of(response)}")
        finally:
            await response.aclose()
    except secret_box.UnreadableSecret as exc:
        error = f"The endpoint's secret cannot be read ({exc}); rotate it."
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        error = _excerpt(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)
    attempts = row.attempts + 1
    mine = models.WebhookDelivery.filter(id=row.id, claim_token=claim_token)
    if error is None:
        await mine.update(status=WebhookDeliveryStatus.DELIVERED, attempts=attempts, response_status=status,
                          error=None, delivered_at=now, next_attempt_at=None, claim_token=None, updated_at=now)
        await models.WebhookEndpoint.filter(id=endpoint.id).update(consecutive_failures=0)
        return
    final = attempts >= MAX_ATTEMPTS
    await mine.update(status=WebhookDeliveryStatus.FAILED if final else WebhookDeliveryStatus.PENDING,
                      attempts=attempts, response_status=status, error=error, claim_token=None, updated_at=now,
                      next_attempt_at=None if final else now + backoff(attempts))
    await models.WebhookEndpoint.filter(id=endpoint.id).update(consecutive_failures=F("consecutive_failures") + 1)
    if final:
        await _disable_if_failing(endpoint.id, now, error)


async def _disable_if_failing(endpoint_id: int, now: datetime, error: str) -> None:
    """Disable the endpoint when no try of any of its deliveries succeeded during this one's tries."""
    reason = (f"Disabled automatically on {now:%Y-%m-%d %H:%M} UTC: {MAX_ATTEMPTS} or more tries in a row failed "
              f"over about a day (the last: {error[:200]}). Fix the receiver, then enable the endpoint again.")
    await models.WebhookEndpoint.filter(id=endpoint_id, enabled=True,
                                        consecutive_failures__gte=MAX_ATTEMPTS).update(
        enabled=False, disabled_at=now, disabled_reason=reason, updated_at=now)


async def _start_of(response: httpx.Response) -> str:
    """The first `ERROR_EXCERPT` bytes of an answer's body, as text (the rest is never read)."""
    kept = b""
    async for chunk in response.aiter_bytes():
        kept += chunk
        if len(kept) >= ERROR_EXCERPT:
            break
    return kept[:ERROR_EXCERPT].decode("utf-8", "replace")


def _excerpt(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= ERROR_EXCERPT else text[:ERROR_EXCERPT - 1] + "…"


# --- reading and redelivery ----------------------------------------------------------------------------------


def endpoint_deliveries(endpoint_id: int, status: WebhookDeliveryStatus | None = None) -> Any:
    """The deliveries of an endpoint, newest first (a queryset to page)."""
    queryset = models.WebhookDelivery.filter(endpoint_id=endpoint_id)
    if status is not None:
        queryset = queryset.filter(status=status)
    return queryset.order_by("-id")


@dataclass(frozen=True, slots=True)
class RedeliverWebhook:
    delivery_id: int


@dataclass(frozen=True, slots=True)
class Redelivered:
    delivery: models.WebhookDelivery


async def redeliver(access: Access, cmd: RedeliverWebhook) -> Redelivered:
    """A new delivery of the same event (same ``webhook-id`` and body), due now; the endpoint must be enabled.
    The original row stays in the log as it was."""
    original = await access.get(models.WebhookDelivery, cmd.delivery_id, Role.ADMIN,
                                field="delivery_id")
    endpoint = await models.WebhookEndpoint.get(id=original.endpoint_id)
    if not endpoint.enabled:
        raise Conflict("The endpoint is disabled: enable it (updateWebhookEndpoint) before redelivering.",
                       field="delivery_id")
    now = runtime.now()
    row = await models.WebhookDelivery.create(
        project_id=original.project_id, endpoint_id=original.endpoint_id, event_id=original.event_id,
        event_type=original.event_type, payload=original.payload, next_attempt_at=now)
    return Redelivered(row)
