"""The actor that sends event webhooks. The outbox lives in the database (`services.webhook_deliveries`): a
message only says "try the deliveries of claim T", so a duplicate or a late copy sends nothing twice, and a lost
one is claimed again once its lease ends. Failed tries are retried by the outbox's schedule, not by dramatiq."""

from __future__ import annotations

import dramatiq

from outboundql.services import webhook_deliveries
from outboundql.workers.broker import current_broker

QUEUE = "webhooks"


@dramatiq.actor(broker=current_broker(), actor_name="deliver_webhooks", queue_name=QUEUE, max_retries=0,
                time_limit=10 * 60_000)
async def deliver_webhooks(delivery_ids: list[int], claim_token: str) -> None:
    await webhook_deliveries.deliver(delivery_ids, claim_token)
