"""`outboundql.services.jobs.Jobs` on dramatiq: each job is a message to one of the actors."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import datetime

from dramatiq.errors import BrokerError
from redis.exceptions import RedisError

from outboundql.services.jobs import JobsUnavailable
from outboundql.workers.audiences import sync_audience
from outboundql.workers.execution import execute_attempts
from outboundql.workers.imports import run_import
from outboundql.workers.replies import classify_replies, propose_signals
from outboundql.workers.scoring import score_batch
from outboundql.workers.tokens import touch_api_token
from outboundql.workers.webhooks import deliver_webhooks


class DramatiqJobs:
    """Sends messages to the installed broker (a blocking call for Redis: done off the event loop).
    A broker that cannot take them raises `JobsUnavailable` (redis-py's ``ConnectionError`` and
    ``TimeoutError`` are siblings under ``RedisError``; other brokers raise dramatiq's ``BrokerError``)."""

    async def score_batches(self, run_id: int, batches: Sequence[int]) -> None:
        if not batches:
            return

        def send() -> None:
            for batch in batches:
                score_batch.send(run_id, batch)

        await _sending(send)

    async def execute_attempts(self, attempt_ids: Sequence[int], claim_token: str) -> None:
        await _sending(lambda: execute_attempts.send(list(attempt_ids), claim_token))

    async def run_import(self, import_job_id: int) -> None:
        await _sending(lambda: run_import.send(import_job_id))

    async def deliver_webhooks(self, delivery_ids: Sequence[int], claim_token: str) -> None:
        await _sending(lambda: deliver_webhooks.send(list(delivery_ids), claim_token))

    async def classify_replies(self, message_ids: Sequence[int]) -> None:
        await _sending(lambda: classify_replies.send(list(message_ids)))

    async def propose_signals(self, message_ids: Sequence[int]) -> None:
        await _sending(lambda: propose_signals.send(list(message_ids)))

    async def sync_audience(self, audience_sync_id: int) -> None:
        await _sending(lambda: sync_audience.send(audience_sync_id))

    async def touch_token(self, token_id: int, used_at: datetime) -> None:
        await _sending(lambda: touch_api_token.send(token_id, used_at.isoformat()))


async def _sending(send: Callable[[], object]) -> None:
    try:
        await asyncio.to_thread(send)
    except (RedisError, BrokerError) as exc:
        raise JobsUnavailable(f"The job queue is unavailable: {type(exc).__name__}: {exc}") from exc
