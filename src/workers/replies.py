"""The actors that read what conversations say: replies classified (`services.reply_classes`) and signals proposed
(`services.signal_proposals`). Reading again what was read changes nothing, so a duplicate message is harmless."""

from __future__ import annotations

import dramatiq

from outboundql.services import reply_classes, signal_proposals
from outboundql.workers.broker import current_broker


@dramatiq.actor(broker=current_broker(), actor_name="classify_replies", queue_name="default", max_retries=3,
                min_backoff=1_000, max_backoff=60_000, time_limit=10 * 60_000)
async def classify_replies(message_ids: list[int]) -> None:
    await reply_classes.classify(message_ids)


@dramatiq.actor(broker=current_broker(), actor_name="propose_signals", queue_name="default", max_retries=3,
                min_backoff=1_000, max_backoff=60_000, time_limit=10 * 60_000)
async def propose_signals(message_ids: list[int]) -> None:
    await signal_proposals.propose(message_ids)
