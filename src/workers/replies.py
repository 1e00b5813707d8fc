"""The actor that classifies inbound messages (`services.reply_classes`). Classifying again what is classified
changes nothing, so a duplicate message is harmless."""

from __future__ import annotations

import dramatiq

from outboundql.services import reply_classes
from outboundql.workers.broker import current_broker


@dramatiq.actor(broker=current_broker(), actor_name="classify_replies", queue_name="default", max_retries=3,
                min_backoff=1_000, max_backoff=60_000, time_limit=10 * 60_000)
async def classify_replies(message_ids: list[int]) -> None:
    await reply_classes.classify(message_ids)
