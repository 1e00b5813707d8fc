"""The actor that executes claimed outreach attempts. The claim lives in the database
(`services.scheduler`): a message only says "execute these attempts of claim T", so a duplicate or a late copy
executes nothing twice, and a lost one is claimed again once its lease ends."""

from __future__ import annotations

import dramatiq

from outboundql.services import scheduler
from outboundql.workers.broker import current_broker

QUEUE = "outreach"


@dramatiq.actor(broker=current_broker(), actor_name="execute_attempts", queue_name=QUEUE, max_retries=3,
                min_backoff=1_000, max_backoff=30_000, time_limit=10 * 60_000)
async def execute_attempts(attempt_ids: list[int], claim_token: str) -> None:
    await scheduler.execute(attempt_ids, claim_token)
