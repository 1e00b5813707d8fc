"""Actors of scoring runs. The run's state lives in the database (`services.scoring_runs`); a
message only says "score the pending items of batch N of run R", so duplicates are harmless."""

from __future__ import annotations

from typing import Any

import dramatiq

from outboundql.services import runtime, scoring_batches, scoring_runs
from outboundql.workers.broker import current_broker

QUEUE = "scoring"


@dramatiq.actor(broker=current_broker(), actor_name="score_batch", queue_name=QUEUE, max_retries=3,
                min_backoff=1_000, max_backoff=60_000, time_limit=30 * 60_000,
                on_retry_exhausted="scoring_batch_gave_up")
async def score_batch(run_id: int, batch: int) -> None:
    """Score one batch of a run. An error is kept on the run (the last one is what `scoringError`
    shows if the retries run out) and re-raised so dramatiq retries the batch with backoff."""
    try:
        await scoring_batches.process(run_id, batch, runtime.goals(), runtime.settings(), runtime.scorers())
    except Exception as exc:
        await scoring_runs.note_error(run_id, f"{type(exc).__name__}: {exc}")
        raise


@dramatiq.actor(broker=current_broker(), actor_name="scoring_batch_gave_up", queue_name=QUEUE, max_retries=3)
async def scoring_batch_gave_up(message_data: dict[str, Any], retry_info: dict[str, Any]) -> None:
    """A batch failed every retry: the run fails with the batch's last error (its scores so far stay)."""
    run_id, batch = message_data["args"]
    await scoring_runs.batch_gave_up(run_id, batch, attempts=int(retry_info.get("retries", 0)) + 1)
