"""One batch of a scoring run: load what the scorer sees, score, and write the results.

Idempotent by construction: only ``pending`` items are scored, FitScores are upserted on their
unique key (product, goal, account), and items move ``pending`` → ``done`` with a conditional
UPDATE whose row count is what the progress counters add. A batch delivered twice, or processed
by two workers at once, still leaves exactly one FitScore per account and exact counters.
"""

from __future__ import annotations

import contextlib
import logging
from collections import defaultdict
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from tortoise import connections
from tortoise.expressions import F
from tortoise.transactions import in_transaction

from outboundql import models
from outboundql.enums import ScoringItemState, ScoringStatus, UsageOperation
from outboundql.goals import api as goals_api
from outboundql.goals.registry import GoalRegistry
from outboundql.llm.client import LlmError, LlmRequestRefused
from outboundql.metrics import ACCOUNTS_SCORED
from outboundql.scoring.registry import ScorerRegistry, checked_outcome, get_scorer
from outboundql.scoring.scorers import (
    BatchOutcome,
    ScorerUnavailable,
    ScoringContext,
    ScoringItem,
    UnknownScorer,
    Usage,
)
from outboundql.scoring.snapshots import AccountSnapshot, ContactSnapshot
from outboundql.services import api_usage, campaign_scores, events, scoring_runs
from outboundql.services.personas import persona_snapshot
from outboundql.services.sql import chunks, column, is_postgres, placeholder
from outboundql.settings import Settings

log = logging.getLogger(__name__)

_UPSERT_COLUMNS = ("project_id", "product_id", "account_id", "goal_key", "score", "band", "justifications",
                   "persona_version", "scorer", "model", "created_at", "updated_at")
_UPDATED_ON_CONFLICT = ("score", "band", "justifications", "persona_version", "scorer", "model", "updated_at")
_UPSERT_ROWS_PER_STATEMENT = 500  # 6,000 parameters: under SQLite's and PostgreSQL's limits


class RunCannotContinue(Exception):
    """The run cannot go on whatever the retries (goal uninstalled, scorer no longer configured)."""


async def process(run_id: int, batch: int, registry: GoalRegistry, settings: Settings,
                  scorers: ScorerRegistry | None = None) -> None:
    """Score the pending items of ``batch`` with the run's scorer (from ``scorers``, default: the installed ones);
    fail the run (not the batch) when it cannot go on, e.g. its scorer's plugin was uninstalled meanwhile."""
    run = await models.ScoringRun.get_or_none(id=run_id)
    if run is None or run.status is not ScoringStatus.RUNNING:
        return
    try:
        context, persona_version = await _context(run, registry)
        scorer = get_scorer(run.scorer, settings, scorers)
    except UnknownScorer as exc:
        await scoring_runs.fail_run(run_id, f"This run's scorer is no longer installed: {exc} Score the campaign "
                                    "again to use the default scorer or choose one.")
        return
    except (RunCannotContinue, ScorerUnavailable) as exc:
        await scoring_runs.fail_run(run_id, str(exc))
        return
    failure: LlmError | None = None
    written = Written()
    async with claimed_items(run_id, batch) as account_ids:
        if account_ids:
            try:
                items = await load_items(account_ids)
                outcome = checked_outcome(scorer, items, await scorer.score(context, items))
            except LlmError as exc:
                failure = exc
            else:
                written = await _write(run, persona_version, outcome, account_ids)
                ACCOUNTS_SCORED.inc(len(outcome.scored))
                log.info("scoring batch done", extra={"scoring_run_id": run_id, "batch": batch,
                                                      "scored": len(outcome.scored), "failed": len(outcome.failed)})
    if failure is not None:
        # The calls were made (and billed) even though the batch failed: record them.
        await record_usage(run, [Usage(c.provider, c.model, c.input_tokens, c.output_tokens, c.cost_usd)
                                 for c in failure.calls], account_ids)
        if isinstance(failure, LlmRequestRefused):  # a wrong key or URL: retrying cannot help
            await scoring_runs.fail_run(run_id, f"The LLM refused the request: {failure}")
            return
        raise failure
    # After the commit: what subscribers read must already be there.
    if written.progressed:
        await scoring_runs.publish_progress(run)
    for campaign_id in written.other_campaigns:  # their scoredAccounts moved too
        await events.publish_campaign_event(campaign_id, "accounts_changed")
    await scoring_runs.finish_if_done(run_id)


@contextlib.asynccontextmanager
async def claimed_items(run_id: int, batch: int) -> AsyncIterator[list[int]]:
    """The batch's pending accounts, claimed for as long as the block runs.

    On PostgreSQL the items are locked (``FOR UPDATE SKIP LOCKED``) in a transaction that the
    results are written in: a copy of the message processed at the same time (a worker resumed
    the run while the original was in flight) finds nothing to do, so nothing is scored or paid
    for twice; a killed worker's locks go with its connection. On SQLite (the embedded default,
    one process whose in-memory queue never holds a copy while the original is in flight) the
    scoring happens outside any transaction, so the API is never blocked behind a slow scorer.
    """
    query = models.ScoringRunItem.filter(run_id=run_id, batch=batch, state=ScoringItemState.PENDING)
    if not is_postgres(connections.get("default")):
        yield await column(query.values_list("account_id", flat=True))
        return
    async with in_transaction():
        # Model rows, not values_list/exists: tortoise drops FOR UPDATE from those queries.
        yield [item.account_id for item in await query.select_for_update(skip_locked=True).only("id", "account_id")]


async def _context(run: models.ScoringRun, registry: GoalRegistry) -> tuple[ScoringContext, int]:
    goal = registry.get(run.goal_key)
    if goal is None:
        raise RunCannotContinue(f"The goal {run.goal_key!r} is no longer installed.")
    product = await models.Product.get(id=run.product_id)
    persona = await models.Persona.get_or_none(product_id=run.product_id, goal_key=run.goal_key)
    if persona is None:
        raise RunCannotContinue(f"The product's persona for the {run.goal_key!r} goal was deleted.")
    examples = await _examples(run.examples)
    context = ScoringContext(
        goal=goal, persona=persona_snapshot(persona),
        product=goals_api.Product(name=product.name, description=product.description,
                                  website_url=product.website_url, language=run.language),
        language=run.language, today=date.today(), examples=examples,
    )
    return context, persona.version


async def _examples(stored: list[list[Any]]) -> list[tuple[AccountSnapshot, bool]]:
    approved_by_id = {int(account_id): bool(approved) for account_id, approved in stored}
    items = await load_items(list(approved_by_id))
    return [(item.account, approved_by_id[item.account_id]) for item in items]


_SNAPSHOT_FIELDS = ("id", "name", "industry", "employee_count", "country", "city", "description", "custom_fields",
                   "status", "contract_end_date")


async def load_items(account_ids: Sequence[int]) -> list[ScoringItem]:
    """The accounts and their contacts as scorers see them: two queries per 2,000 accounts, reading
    only the columns scorers use (no model instances: a run reads every account it scores)."""
    items: list[ScoringItem] = []
    for part in chunks(list(account_ids)):
        contacts: dict[int, list[ContactSnapshot]] = defaultdict(list)
        for account_id, title, role_kind in await models.Contact.filter(account_id__in=part).order_by("id") \
                .values_list("account_id", "title", "role_kind"):
            contacts[account_id].append(ContactSnapshot(title=title, role_kind=str(role_kind)))
        for row in await models.Account.filter(id__in=part).order_by("id").values(*_SNAPSHOT_FIELDS):
            account_id = row.pop("id")
            snapshot = AccountSnapshot(**{**row, "status": str(row["status"]),
                                          "custom_fields": row["custom_fields"] or {}})
            items.append(ScoringItem(account_id, snapshot, tuple(contacts[account_id])))
    return items


@dataclass(frozen=True, slots=True)
class Written:
    progressed: bool = False  # False when the run ended meanwhile
    other_campaigns: tuple[int, ...] = ()  # other campaigns whose scored counter moved


async def _write(run: models.ScoringRun, persona_version: int, outcome: BatchOutcome,
                 batch: Sequence[int]) -> Written:
    """One transaction: FitScores, the scores kept on the rows and the counters of every campaign of the
    product (`campaign_scores.sync`), item states, progress, and the paid usage. When the run ended
    meanwhile the scores and usage are still kept (they are right, and paid for), but the ended run's
    progress no longer moves."""
    scored_ids = [s.account_id for s in outcome.scored]
    async with in_transaction() as conn:
        # Lock the product's campaigns (in id order: no deadlocks; all of them, so one switching to
        # this goal meanwhile is counted by exactly one side), then the run: under the locks, no other
        # writer moves the same rows' kept scores and counters.
        await models.Campaign.filter(product_id=run.product_id).order_by("id").select_for_update().only("id")
        running = bool(await models.ScoringRun.filter(id=run.id, status=ScoringStatus.RUNNING)
                       .select_for_update().only("id"))
        await _upsert_scores(conn, run, persona_version, outcome)
        # The rows of these accounts in every campaign of the product: their kept scores and the counters.
        changed = await campaign_scores.sync(account_ids=scored_ids, product_id=run.product_id)
        others = set(changed) - {run.campaign_id}
        await record_usage(run, outcome.usage, batch)
        if not running:
            return Written(False, tuple(sorted(others)))
        done = 0
        for part in chunks(scored_ids):
            done += await models.ScoringRunItem.filter(
                run_id=run.id, state=ScoringItemState.PENDING, account_id__in=part,
            ).update(state=ScoringItemState.DONE)
        failed = 0
        for failure in outcome.failed:
            failed += await models.ScoringRunItem.filter(
                run_id=run.id, state=ScoringItemState.PENDING, account_id=failure.account_id,
            ).update(state=ScoringItemState.FAILED, error=failure.error[:2000])
        if done or failed:
            # updated_at: when the run last progressed (a run stalled for long has its batches enqueued again)
            await models.ScoringRun.filter(id=run.id).update(done=F("done") + (done + failed),
                                                             failed=F("failed") + failed, updated_at=datetime.now(UTC))
            await models.Campaign.filter(id=run.campaign_id).update(scoring_done=F("scoring_done") + (done + failed))
        return Written(True, tuple(sorted(others)))


async def record_usage(run: models.ScoringRun, usage: Sequence[Usage], batch: Sequence[int]) -> None:
    """One ApiUsage row per paid call, on the run's project and campaign, shared by the accounts of the batch it
    was about (the call's ``account_ids`` of the batch; none given: the whole batch)."""
    in_batch = set(batch)
    await api_usage.record(run.project_id, run.campaign_id, [
        api_usage.PaidCall(u.provider, u.model, UsageOperation.SCORE, u.input_units, u.output_units, u.cost_usd,
                           account_ids=[a for a in u.account_ids if a in in_batch] or list(batch))
        for u in usage
    ])


async def _upsert_scores(conn: Any, run: models.ScoringRun, persona_version: int, outcome: BatchOutcome) -> None:
    """INSERT … ON CONFLICT (product_id, goal_key, account_id) DO UPDATE: one statement per 500 scores. A score
    attached from outside meanwhile is kept unless the run was forced."""
    model = models.FitScore
    fields_map = model._meta.fields_map
    now = datetime.now(UTC)
    stamp = fields_map["created_at"].to_db_value(now, model)
    width = len(_UPSERT_COLUMNS)
    updates = ", ".join(f"{c} = excluded.{c}" for c in _UPDATED_ON_CONFLICT)
    cast = "::jsonb" if is_postgres(conn) else ""
    keep_external = "" if run.force else f" WHERE fit_score.scorer <> '{scoring_runs.EXTERNAL_SCORER}'"
    for part in chunks(outcome.scored, _UPSERT_ROWS_PER_STATEMENT):
        groups = ", ".join(
            "(" + ", ".join(placeholder(conn, k * width + c + 1) + (cast if _UPSERT_COLUMNS[c] == "justifications"
                                                                     else "")
                            for c in range(width)) + ")"
            for k in range(len(part)))
        values: list[Any] = []
        for s in part:
            justifications = [{"kind": j.kind, "criterion": j.criterion, "text": j.text} for j in s.justifications]
            values += [run.project_id, run.product_id, s.account_id, run.goal_key, float(s.score),
                       fields_map["band"].to_db_value(s.band, model),
                       fields_map["justifications"].to_db_value(justifications, model),
                       persona_version, run.scorer, s.model, stamp, stamp]
        await conn.execute_query(
            f"INSERT INTO fit_score ({', '.join(_UPSERT_COLUMNS)}) VALUES {groups} "
            f"ON CONFLICT (product_id, goal_key, account_id) DO UPDATE SET {updates}{keep_external}", values)
