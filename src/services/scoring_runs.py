"""Scoring runs: start one over a campaign's accounts, resume the interrupted, end them.

The database is the truth, not the broker: starting a run fixes its work set as `ScoringRunItem`
rows (each in a numbered batch, one job message per batch) in the same transaction that records
the run. Batches only ever move items from ``pending`` to ``done``/``failed``, so re-delivered or
re-enqueued messages are harmless, and a run whose messages were lost (a crash of the embedded
server, a flushed Redis) is resumed by enqueueing its batches that still have pending items.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from outboundql import models
from outboundql.enums import ReviewStatus, Role, ScoringItemState, ScoringStatus
from outboundql.errors import InvalidInput, Unavailable
from outboundql.goals.registry import GoalRegistry
from outboundql.scoring.registry import get_scorer
from outboundql.scoring.scorers import ScorerUnavailable, UnknownScorer
from outboundql.services import audit, events, personas, runtime, webhook_deliveries
from outboundql.services.access import Access
from outboundql.services.campaigns import effective_language
from outboundql.services.locks import locked_campaign
from outboundql.services.sql import column, placeholder

#: The scorer of scores attached from outside: a run without ``force`` leaves them alone.
EXTERNAL_SCORER = "external"
#: A product needs this many reviewed campaign accounts before reviews are given to the scorer.
FEEDBACK_MIN_REVIEWED = 10
FEEDBACK_PER_SIDE = 5
#: Workers booting within this window of one another resume a run only once.
RESUME_CLAIM_WINDOW = timedelta(seconds=30)

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ScoreCampaign:
    campaign_id: int
    force: bool = False  # rescore accounts whose score is current too
    scorer: str | None = None  # None: the settings' default scorer


@dataclass(frozen=True, slots=True)
class ScoringStarted:
    run: models.ScoringRun  # the run started, or the one already running
    campaign: models.Campaign  # as the start left it (its scoring status and progress)
    started: bool  # False: a run of this campaign was already active, and it is returned instead


async def score_campaign(access: Access, goals: GoalRegistry, cmd: ScoreCampaign) -> ScoringStarted:
    """Record a run over the campaign's accounts that need a score, enqueue its batches and tell the
    campaign's subscribers. Two concurrent calls for one campaign never make two runs: the second
    gets the first (``started`` false)."""
    settings = runtime.settings()
    campaign = await access.get(models.Campaign, cmd.campaign_id, Role.MEMBER, field="campaign_id")
    if campaign.archived_at is not None:
        raise InvalidInput("This campaign is archived; unarchive it before scoring.", field="campaign_id")
    scorers = runtime.scorers()
    scorer_name = cmd.scorer or scorers.default_key(settings)
    try:
        batch_size = get_scorer(scorer_name, settings, scorers).batch_size
    except UnknownScorer as exc:
        raise InvalidInput(str(exc), field="scorer") from None
    except ScorerUnavailable as exc:
        raise Unavailable(str(exc), field="scorer") from None
    if goals.get(campaign.goal_key) is None:
        raise InvalidInput(f"The campaign's goal {campaign.goal_key!r} is not installed; install its plugin or "
                           "switch the campaign to another goal.", field="campaign_id")
    persona = (await personas.derive_persona(access, goals, personas.DerivePersona(
        product_id=campaign.product_id, goal=campaign.goal_key, language=campaign.communication_language))).persona
    product = await models.Product.get(id=campaign.product_id)
    examples = await feedback_examples(campaign.product_id)
    async with in_transaction() as conn:
        campaign = await locked_campaign(campaign.id)
        active = await models.ScoringRun.filter(active_campaign_id=campaign.id).first()
        if active is not None:
            return ScoringStarted(active, campaign, started=False)
        run = await models.ScoringRun.create(
            project_id=campaign.project_id, campaign_id=campaign.id, product_id=campaign.product_id,
            goal_key=campaign.goal_key, scorer=scorer_name, force=cmd.force,
            language=effective_language(campaign, product, access.user), persona_version=persona.version,
            examples=[[account_id, approved] for account_id, approved in examples],
            status=ScoringStatus.RUNNING, active_campaign_id=campaign.id, created_by=access.user,
        )
        run.total = await _insert_items(conn, run, batch_size)
        if run.total == 0:
            run.status, run.active_campaign_id, run.finished_at = ScoringStatus.COMPLETED, None, datetime.now(UTC)
        await run.save(update_fields=["total", "status", "active_campaign_id", "finished_at"])
        progress = {"scoring_status": run.status, "scoring_error": None, "scoring_done": 0,
                    "scoring_total": run.total}
        await models.Campaign.filter(id=campaign.id).update(**progress)
        for name, value in progress.items():
            setattr(campaign, name, value)
        await audit.record(project_id=campaign.project_id, actor=access.user, action="campaign.score", row=campaign,
                           after={"run_id": run.id, "scorer": scorer_name, "force": cmd.force, "total": run.total})
    log.info("scoring run started", extra={"scoring_run_id": run.id, "campaign_id": campaign.id,
                                           "scorer": scorer_name, "total": run.total})
    await _enqueue_started(run.id)
    await publish_progress(run)
    if run.status is ScoringStatus.COMPLETED:  # nothing to score: it ended as it started
        await webhook_deliveries.record_scoring_finished(run.id)
    return ScoringStarted(run, campaign, started=True)


async def _enqueue_started(run_id: int) -> None:
    """Enqueue a just-committed run's batches. The run is started whatever happens here: its pending items
    are in the database, and batches that did not reach the queue (Redis down) are enqueued again from
    them later, so a failure is logged, never turned into a failed start (a client told so would retry)."""
    try:
        await enqueue(run_id, await pending_batches(run_id))
    except Exception:
        log.warning("Scoring run %s started, but its batches were not enqueued; they will be enqueued again "
                    "from its pending items.", run_id, exc_info=True)


async def _insert_items(conn: Any, run: models.ScoringRun, batch_size: int) -> int:
    """INSERT … SELECT the run's work set in one statement: the campaign's accounts with no score for
    (product, goal) made under the current persona version nor attached from outside (scorer
    ``external``, see `services.external_scores`); every account when ``force``."""
    def p(n: int) -> str:
        return placeholder(conn, n)

    cached = "" if run.force else (
        f" AND NOT EXISTS (SELECT 1 FROM fit_score fs WHERE fs.product_id = {int(run.product_id)}"
        f" AND fs.goal_key = {p(2)} AND fs.account_id = ca.account_id"
        f" AND (fs.persona_version >= {p(3)} OR fs.scorer = '{EXTERNAL_SCORER}'))")
    values: list[Any] = [ScoringItemState.PENDING.value]
    if not run.force:
        values += [run.goal_key, run.persona_version]
    await conn.execute_query(
        "INSERT INTO scoring_run_item (run_id, account_id, batch, state) "
        f"SELECT {int(run.id)}, ca.account_id, (ROW_NUMBER() OVER (ORDER BY ca.account_id) - 1) / {int(batch_size)}, "
        f"{p(1)} FROM campaign_account ca WHERE ca.campaign_id = {int(run.campaign_id)}{cached}",
        values,
    )
    return await models.ScoringRunItem.filter(run_id=run.id).count()


async def feedback_examples(product_id: int) -> list[tuple[int, bool]]:
    """Up to 5 most recent approvals and 5 most recent rejections among the product's campaigns,
    once it has at least 10 reviewed campaign accounts; else nothing."""
    reviewed = models.CampaignAccount.filter(
        campaign__product_id=product_id, review_status__in=[ReviewStatus.APPROVED, ReviewStatus.REJECTED])
    if await reviewed.count() < FEEDBACK_MIN_REVIEWED:
        return []
    out: list[tuple[int, bool]] = []
    for status in (ReviewStatus.APPROVED, ReviewStatus.REJECTED):
        rows = reviewed.filter(review_status=status)
        # Dated reviews newest first, then undated ones (PostgreSQL would sort NULLs first).
        ids = [*await column(rows.filter(reviewed_at__isnull=False).order_by("-reviewed_at", "-id")
                             .limit(FEEDBACK_PER_SIDE * 3).values_list("account_id", flat=True)),
               *await column(rows.filter(reviewed_at__isnull=True).order_by("-id")
                             .limit(FEEDBACK_PER_SIDE * 3).values_list("account_id", flat=True))]
        out += [(account_id, status is ReviewStatus.APPROVED)
                for account_id in list(dict.fromkeys(ids))[:FEEDBACK_PER_SIDE]]
    return out


async def pending_batches(run_id: int) -> list[int]:
    return sorted(await column(models.ScoringRunItem.filter(run_id=run_id, state=ScoringItemState.PENDING)
                               .distinct().values_list("batch", flat=True)))


async def enqueue(run_id: int, batches: list[int]) -> None:
    """One job per batch. Sent after the transaction that made the items commits."""
    if batches:
        await runtime.jobs().score_batches(run_id, batches)


async def finish_if_done(run_id: int) -> None:
    """Complete the run once no item is pending; exactly one caller wins."""
    if await models.ScoringRunItem.filter(run_id=run_id, state=ScoringItemState.PENDING).exists():
        return
    await _end(run_id, ScoringStatus.COMPLETED, None)


async def fail_run(run_id: int, error: str) -> None:
    """End the run as failed with ``error``; what it scored stays cached, so a retry does the rest."""
    await _end(run_id, ScoringStatus.FAILED, error)


async def note_error(run_id: int, error: str) -> None:
    """Keep the last error of a batch on its running run (what `scoringError` shows if retries run out)."""
    await models.ScoringRun.filter(id=run_id, status=ScoringStatus.RUNNING).update(error=error[:2000])


async def batch_gave_up(run_id: int, batch: int, *, attempts: int) -> None:
    """A batch failed every attempt: the run fails with the batch's last error (its scores so far stay)."""
    run = await models.ScoringRun.get_or_none(id=run_id)
    if run is None:
        return
    await fail_run(run_id, f"Batch {batch} failed after {attempts} attempts: {run.error or 'unknown error'}")


async def failures(run_id: int, limit: int) -> list[tuple[int, str]]:
    """(account id, error) of the run's accounts that failed, first failed first, at most ``limit``."""
    rows = await models.ScoringRunItem.filter(run_id=run_id, state=ScoringItemState.FAILED) \
        .order_by("id").limit(limit).values_list("account_id", "error")
    return [(int(account_id), error or "") for account_id, error in rows]


async def _end(run_id: int, status: ScoringStatus, error: str | None) -> None:
    run = await models.ScoringRun.get_or_none(id=run_id)
    if run is None:
        return
    async with in_transaction():
        await locked_campaign(run.campaign_id)  # the campaign before the run, as every writer locks them
        ended = await models.ScoringRun.filter(id=run_id, status=ScoringStatus.RUNNING).update(
            status=status, error=error, active_campaign_id=None, finished_at=datetime.now(UTC))
        if ended:
            await models.Campaign.filter(id=run.campaign_id).update(scoring_status=status, scoring_error=error)
    if ended:
        log.log(logging.INFO if status is ScoringStatus.COMPLETED else logging.WARNING, "scoring run ended",
                extra={"scoring_run_id": run_id, "campaign_id": run.campaign_id, "status": status.value,
                       "error": error})
        await publish_progress(run)
        await webhook_deliveries.record_scoring_finished(run_id)


async def resume_interrupted(claim_window: timedelta = RESUME_CLAIM_WINDOW, *, stalled_for: timedelta | None = None,
                             now: datetime | None = None) -> list[int]:
    """Enqueue again the pending batches of every running run (their messages were lost: a crash, a
    restart, Redis restarted empty); with ``stalled_for``, only of runs that made no progress for that
    long (a healthy run is left alone). Each run is claimed first (``resumed_at``, for ``claim_window``),
    so workers doing this together enqueue it once; a run whose batches could not be sent is released
    again for the next try. Returns the ids of the runs resumed."""
    now = now or datetime.now(UTC)
    running = models.ScoringRun.filter(status=ScoringStatus.RUNNING)
    stalled = Q() if stalled_for is None else Q(updated_at__lt=now - stalled_for)  # updated_at: the last progress
    resumed = []
    for run_id, previous in await running.filter(stalled).order_by("id").values_list("id", "resumed_at"):
        claimed = await running.filter(
            Q(resumed_at__isnull=True) | Q(resumed_at__lt=now - claim_window), stalled, id=run_id,
        ).update(resumed_at=now)
        if not claimed:
            continue
        batches = await pending_batches(run_id)
        if batches:
            try:
                await runtime.jobs().score_batches(run_id, batches)
            except Exception:
                await running.filter(id=run_id, resumed_at=now).update(resumed_at=previous)
                raise
        else:
            await finish_if_done(run_id)
        resumed.append(int(run_id))
    return resumed


async def publish_progress(run: models.ScoringRun) -> None:
    fresh = await models.ScoringRun.get(id=run.id)
    await events.publish_campaign_event(fresh.campaign_id, "scoring_progress", {
        "run_id": fresh.id, "status": fresh.status.value, "done": fresh.done, "total": fresh.total,
        "failed": fresh.failed,
    })
