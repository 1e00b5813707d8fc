"""The actor of import jobs. The job lives in the database (`services.imports`): a message only says "run import
job J", and a run claims the job first, so a duplicate or a late copy does nothing; a lost one is sent again by
`services.imports.resume_stalled`."""

from __future__ import annotations

import dramatiq

from outboundql.models.audit import AuditSource
from outboundql.services import audit, imports
from outboundql.workers.broker import current_broker

QUEUE = "imports"


@dramatiq.actor(broker=current_broker(), actor_name="run_import", queue_name=QUEUE, max_retries=3,
                min_backoff=1_000, max_backoff=60_000, time_limit=60 * 60_000)
async def run_import(job_id: int) -> None:
    with audit.origin(AuditSource.IMPORT):  # what the job writes is audited as the import's
        await imports.run_import(job_id)
