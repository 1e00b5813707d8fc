"""Scoring under real concurrency (PostgreSQL): two copies of one batch processed at the same time
score (and would pay for) each account once; concurrent scoreCampaign calls make one run."""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import pytest

from outboundql import models
from outboundql.enums import ScoringStatus
from outboundql.goals.testing import registry_with
from outboundql.scoring.scorers import RubricScorer
from outboundql.services import campaign_stats, scoring_batches, scoring_runs
from outboundql.services import campaigns as campaigns_service
from outboundql.services.access import Access
from outboundql.services.projects import CreateProject, create_project
from outboundql.services.scoring_runs import ScoreCampaign
from outboundql.settings import Settings
from outboundql.workers import current_broker
from tests.conftest import global_database

pytestmark = pytest.mark.integration

N_ACCOUNTS = 30
SETTINGS = Settings(database_url="sqlite://:memory:", redis_url=None)


@dataclass
class Scene:
    access: Access
    campaign: models.Campaign


@asynccontextmanager
async def scene(pg_url: str) -> AsyncIterator[Scene]:
    broker = current_broker()
    async with global_database(pg_url):
        try:
            user = await models.User.create(email="racer@example.com", name="Racer")
            access = await Access.for_user(user)
            project = (await create_project(access, CreateProject(name="Race"))).project
            product = await models.Product.create(project=project, name="Widget", slug="widget",
                                                  description="Warehouse software")
            campaign = (await campaigns_service.create_campaign(
                access, registry_with(),
                campaigns_service.CreateCampaign(project_id=project.id, product_id=product.id, name="Race"),
            )).campaign
            await models.Account.bulk_create([models.Account(project=project, name=f"Racer {i:03d}",
                                                             description="warehouse") for i in range(N_ACCOUNTS)])
            for account_id in await models.Account.filter(project_id=project.id).values_list("id", flat=True):
                await models.CampaignAccount.create(campaign=campaign, account_id=account_id)
            await campaign_stats.recount([campaign.id])
            yield Scene(access, campaign)
        finally:
            broker.flush_all()


async def test_two_copies_of_a_batch_at_once_score_each_account_once(pg_url: str,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    scored: list[int] = []
    real = RubricScorer.score

    async def slow(self: RubricScorer, context: Any, items: Any) -> Any:
        scored.extend(item.account_id for item in items)
        await asyncio.sleep(0.3)  # long enough for the copy to arrive while this one is in flight
        return await real(self, context, items)

    monkeypatch.setattr(RubricScorer, "score", slow)
    async with scene(pg_url) as s:
        started = await scoring_runs.score_campaign(s.access, registry_with(), ScoreCampaign(s.campaign.id,
                                                                                             scorer="rubric"))
        run_id = started.run.id
        await asyncio.gather(*(scoring_batches.process(run_id, 0, registry_with(), SETTINGS) for _ in range(2)))

        assert sorted(scored) == sorted(set(scored)) and len(scored) == N_ACCOUNTS  # scored (and paid for) once
        run = await models.ScoringRun.get(id=run_id)
        assert (run.status, run.done, run.total) == (ScoringStatus.COMPLETED, N_ACCOUNTS, N_ACCOUNTS)
        assert await models.FitScore.filter(product_id=s.campaign.product_id).count() == N_ACCOUNTS
        assert await campaign_stats.recount([s.campaign.id]) == []


async def test_concurrent_score_campaign_calls_make_one_run(pg_url: str) -> None:
    async with scene(pg_url) as s:
        results = await asyncio.gather(*(
            scoring_runs.score_campaign(s.access, registry_with(), ScoreCampaign(s.campaign.id, scorer="rubric"))
            for _ in range(4)))
        assert sorted(r.started for r in results) == [False, False, False, True]
        assert len({r.run.id for r in results}) == 1
        assert await models.ScoringRun.filter(campaign_id=s.campaign.id).count() == 1


async def test_a_batch_of_an_ended_run_leaves_the_next_runs_progress_alone(pg_url: str,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    real = RubricScorer.score
    interfered: list[int] = []

    async with scene(pg_url) as s:
        first = (await scoring_runs.score_campaign(s.access, registry_with(),
                                                   ScoreCampaign(s.campaign.id, scorer="rubric"))).run

        async def meanwhile(self: RubricScorer, context: Any, items: Any) -> Any:
            # While this batch is scored, its run fails and a retry starts (another connection).
            async def fail_and_retry() -> None:
                await scoring_runs.fail_run(first.id, "boom")
                second = await scoring_runs.score_campaign(s.access, registry_with(),
                                                           ScoreCampaign(s.campaign.id, scorer="rubric"))
                interfered.append(second.run.id)

            # An empty context: outside this batch's transaction, on a connection of its own.
            await asyncio.create_task(fail_and_retry(), context=contextvars.Context())
            return await real(self, context, items)

        monkeypatch.setattr(RubricScorer, "score", meanwhile)
        await scoring_batches.process(first.id, 0, registry_with(), SETTINGS)
        (second_id,) = interfered
        second = await models.ScoringRun.get(id=second_id)
        campaign = await models.Campaign.get(id=s.campaign.id)
        assert (second.status, second.done, second.total) == (ScoringStatus.RUNNING, 0, N_ACCOUNTS)
        assert (campaign.scoring_status, campaign.scoring_done, campaign.scoring_total) == (
            ScoringStatus.RUNNING, 0, N_ACCOUNTS)
        assert (await models.ScoringRun.get(id=first.id)).done == 0  # an ended run does not move
        # What the late batch scored is kept, and counted once.
        assert await models.FitScore.filter(product_id=s.campaign.product_id).count() == N_ACCOUNTS
        assert await campaign_stats.recount([s.campaign.id]) == []

