"""`outboundql.services.jobs.Jobs` on dramatiq: each job is a message to one of the actors."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime

from outboundql.workers.scoring import score_batch
from outboundql.workers.tokens import touch_api_token


class DramatiqJobs:
    """Sends messages to the installed broker (a blocking call for Redis: done off the event loop)."""

    async def score_batches(self, run_id: int, batches: Sequence[int]) -> None:
        if not batches:
            return

        def send() -> None:
            for batch in batches:
                score_batch.send(run_id, batch)

        await asyncio.to_thread(send)

    async def touch_token(self, token_id: int, used_at: datetime) -> None:
        await asyncio.to_thread(touch_api_token.send, token_id, used_at.isoformat())
