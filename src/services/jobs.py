"""The background jobs services ask for (a port): what to run later, not how.

The workers package implements it (``DramatiqJobs``, with dramatiq actors); services reach the
configured implementation through `outboundql.services.runtime`. Every job is idempotent, so a job sent
twice (a resumed run, a retried touch) is harmless.

Sending can fail (Redis down, or hung past the broker's socket timeout): the port then raises
`JobsUnavailable`, whatever the broker's own error was, so services decide what such a failure
means for them without knowing the broker.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol


class JobsUnavailable(Exception):
    """The job queue could not take a job now (its broker is down or does not answer in time). Jobs
    sent before the failure may have been taken; every job being idempotent, sending them again is safe."""


class Jobs(Protocol):
    async def score_batches(self, run_id: int, batches: Sequence[int]) -> None:
        """Score the pending items of each of ``batches`` of scoring run ``run_id`` (one job per batch).
        Called after the transaction that made the items committed. Raises `JobsUnavailable`."""
        ...

    async def execute_attempts(self, attempt_ids: Sequence[int], claim_token: str) -> None:
        """Execute the outreach attempts of one claim (``services.scheduler.execute``). Raises `JobsUnavailable`."""
        ...

    async def run_import(self, import_job_id: int) -> None:
        """Run import job ``import_job_id`` (``services.imports.run_import``), or go on with it from its last
        committed batch. Raises `JobsUnavailable`."""
        ...

    async def deliver_webhooks(self, delivery_ids: Sequence[int], claim_token: str) -> None:
        """Try the webhook deliveries of one claim (``services.webhook_deliveries.deliver``). Raises
        `JobsUnavailable`."""
        ...

    async def classify_replies(self, message_ids: Sequence[int]) -> None:
        """Classify the inbound messages ``message_ids`` (``services.reply_classes.classify``). Raises
        `JobsUnavailable`."""
        ...

    async def propose_signals(self, message_ids: Sequence[int]) -> None:
        """Have the language model read messages ``message_ids`` for signals (``services.signal_proposals.propose``).
        Raises `JobsUnavailable`."""
        ...

    async def sync_audience(self, audience_sync_id: int) -> None:
        """Fill a campaign from its audience (``services.audiences.run_sync``). Raises `JobsUnavailable`."""
        ...

    async def touch_token(self, token_id: int, used_at: datetime) -> None:
        """Record that API token ``token_id`` was used at ``used_at`` (never moves it backwards).
        Raises `JobsUnavailable`."""
        ...
