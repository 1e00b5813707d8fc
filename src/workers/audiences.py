"""The actor of audience syncs. The sync lives in the database (`services.audiences`): a message only says "run
sync S", and a run claims the queued sync first, so a duplicate or a late copy does nothing."""

from __future__ import annotations

import dramatiq

from outboundql.services import audiences
from outboundql.workers.broker import current_broker

QUEUE = "imports"  # bulk account work, beside the imports


@dramatiq.actor(broker=current_broker(), actor_name="sync_audience", queue_name=QUEUE, max_retries=0,
                time_limit=60 * 60_000)
async def sync_audience(audience_sync_id: int) -> None:
    await audiences.run_sync(audience_sync_id)
