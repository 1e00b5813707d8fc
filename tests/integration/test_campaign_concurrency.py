"""Concurrent writers on one campaign (PostgreSQL): adds, reviews and outreach moves running at once
leave the cached statistics equal to the rows; `recount` finds no drift, and repairs a corrupted one."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from tortoise.expressions import F

from outboundql import models
from outboundql.enums import AccountStatus, Band, OutreachStatus, ReviewStatus
from outboundql.errors import InvalidInput
from outboundql.goals.testing import registry_with
from outboundql.services import campaign_accounts as ca_service
from outboundql.services import campaign_stats
from outboundql.services import campaigns as campaigns_service
from outboundql.services.access import Access
from outboundql.services.projects import CreateProject, create_project
from tests.conftest import global_database

pytestmark = pytest.mark.integration

N_ACCOUNTS = 240


@dataclass
class Scene:
    access: Access
    campaign: models.Campaign
    account_ids: list[int]
    admitted: set[int]


@asynccontextmanager
async def scene(pg_url: str) -> AsyncIterator[Scene]:
    async with global_database(pg_url):
        user = await models.User.create(email="racer@example.com", name="Racer")
        access = await Access.for_user(user)
        project = (await create_project(access, CreateProject(name="Race"))).project
        product = await models.Product.create(project=project, name="Widget", slug="widget")
        campaign = (await campaigns_service.create_campaign(access, registry_with(), campaigns_service.CreateCampaign(
            project_id=project.id, product_id=product.id, name="Race"))).campaign
        statuses = [AccountStatus.NEW] * 6 + [AccountStatus.PARTNER, AccountStatus.PRESS,
                                              AccountStatus.DO_NOT_CONTACT, AccountStatus.COMPETITOR]
        await models.Account.bulk_create([
            models.Account(project=project, name=f"Racer {i:03d}", status=statuses[i % len(statuses)])
            for i in range(N_ACCOUNTS)
        ])
        rows = await models.Account.filter(project_id=project.id).order_by("id").values_list("id", "status")
        await models.FitScore.bulk_create([
            models.FitScore(project=project, product=product, account_id=i, goal_key="sales",
                            score=float(n % 11) if n % 11 < 10 else 10.0, band=Band.MODERATE, scorer="test")
            for n, (i, _) in enumerate(rows) if n % 2 == 0
        ])
        admitted = {i for i, s in rows if s in (AccountStatus.NEW, AccountStatus.PARTNER)}
        yield Scene(access, campaign, [i for i, _ in rows], admitted)


async def assert_exact(campaign_id: int) -> dict[str, int]:
    fresh = await models.Campaign.get(id=campaign_id)
    cached = {k: getattr(fresh, k) for k in campaign_stats.COUNTERS}
    assert cached == await campaign_stats.exact(fresh)
    return cached


def only_forward_refusals(results: list[Any]) -> None:
    for result in results:
        if isinstance(result, BaseException):
            assert isinstance(result, InvalidInput) and "forward" in result.message, repr(result)


async def test_concurrent_adds_reviews_and_outreach_keep_statistics_exact(pg_url: str) -> None:
    rng = random.Random(7)
    async with scene(pg_url) as s:
        registry = registry_with()
        cid = s.campaign.id

        # 1. Forty overlapping adds at once.
        samples = [rng.sample(s.account_ids, 70) for _ in range(40)]
        results = await asyncio.gather(*(ca_service.add_accounts(s.access, registry,
                                                                 ca_service.AddAccountsToCampaign(cid, ids))
                                         for ids in samples))
        expected = {i for ids in samples for i in ids} & s.admitted
        assert sum(r.added for r in results) == len(expected)  # each account added exactly once
        counters = await assert_exact(cid)
        assert counters["total_accounts"] == len(expected)

        # 2. Adds, reviews and outreach moves interleaved on overlapping rows.
        row_ids = list(await models.CampaignAccount.filter(campaign_id=cid).values_list("id", flat=True))
        tasks = []
        for n in range(60):
            kind = n % 3
            if kind == 0:
                tasks.append(ca_service.add_accounts(s.access, registry, ca_service.AddAccountsToCampaign(
                    cid, rng.sample(s.account_ids, 40))))
            elif kind == 1:
                tasks.append(ca_service.review(s.access, ca_service.ReviewCampaignAccounts(
                    rng.sample(row_ids, 25), rng.choice(list(ReviewStatus)))))
            else:
                status = rng.choice([OutreachStatus.DRAFT, OutreachStatus.SENT, OutreachStatus.SENT,
                                     OutreachStatus.RESPONDED, OutreachStatus.BOUNCED])
                tasks.append(ca_service.update_campaign_account(s.access, ca_service.UpdateCampaignAccount(
                    rng.choice(row_ids[:30]), outreach_status=status)))
        only_forward_refusals(await asyncio.gather(*tasks, return_exceptions=True))
        counters = await assert_exact(cid)
        assert counters["outreached_accounts"] > 0 and counters["approved_accounts"] > 0

        # 3. Many outreach moves on the same few rows: SENT and RESPONDED are each counted once per row.
        hot = row_ids[30:36]
        moves = [ca_service.update_campaign_account(
                     s.access, ca_service.UpdateCampaignAccount(hot[n % len(hot)], outreach_status=status))
                 for n in range(48)
                 for status in [(OutreachStatus.SENT, OutreachStatus.RESPONDED)[n % 2]]]
        only_forward_refusals(await asyncio.gather(*moves, return_exceptions=True))
        counters = await assert_exact(cid)
        hot_rows = await models.CampaignAccount.filter(id__in=hot)
        assert all(r.outreach_status in (OutreachStatus.SENT, OutreachStatus.RESPONDED) for r in hot_rows)

        assert await campaign_stats.recount() == []


async def test_recount_reports_and_repairs_a_corrupted_counter(pg_url: str) -> None:
    async with scene(pg_url) as s:
        cid = s.campaign.id
        await ca_service.add_accounts(s.access, registry_with(),
                                      ca_service.AddAccountsToCampaign(cid, s.account_ids[:100]))
        rows = list(await models.CampaignAccount.filter(campaign_id=cid).values_list("id", flat=True))
        await asyncio.gather(
            ca_service.review(s.access, ca_service.ReviewCampaignAccounts(rows[:20], ReviewStatus.APPROVED)),
            *(ca_service.update_campaign_account(
                s.access, ca_service.UpdateCampaignAccount(r, outreach_status=OutreachStatus.SENT))
              for r in rows[:10]),
        )
        healthy = await assert_exact(cid)
        assert await campaign_stats.recount([cid]) == []

        await models.Campaign.filter(id=cid).update(outreached_accounts=F("outreached_accounts") + 5,
                                                    scored_accounts=0)
        [drift] = await campaign_stats.recount()
        assert drift.campaign_id == cid and drift.fields == ["scored_accounts", "outreached_accounts"]
        assert drift.cached["outreached_accounts"] == healthy["outreached_accounts"] + 5
        assert drift.actual == healthy
        assert await assert_exact(cid) == healthy
        assert await campaign_stats.recount() == []
