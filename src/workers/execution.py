"""The actor that executes claimed outreach attempts. The claim lives in the database
(`services.scheduler`): a message only says "execute these attempts of claim T", so a duplicate or a late copy
executes nothing twice, and a lost one is claimed again once it counts as lost. A job that executed a full batch
claims the next ones at once (as far as the queue has room), so busy workers do not wait for a tick."""

from __future__ import annotations

import dramatiq

from outboundql.services import runtime, scheduler
from outboundql.workers.broker import current_broker

QUEUE = "outreach"


@dramatiq.actor(broker=current_broker(), actor_name="execute_attempts", queue_name=QUEUE, max_retries=3,
                min_backoff=1_000, max_backoff=30_000, time_limit=10 * 60_000)
async def execute_attempts(attempt_ids: list[int], claim_token: str) -> None:
    await scheduler.execute(attempt_ids, claim_token)
    if len(attempt_ids) >= scheduler.CLAIM_BATCH:  # more may be due
        await scheduler.claim_due(runtime.now())
