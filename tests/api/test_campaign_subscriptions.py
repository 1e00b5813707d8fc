"""campaignScoringProgress and campaignEvents on the embedded default (in-process pub/sub): progress
as a run makes it, other changes of the campaign, and another project's campaign refused like a
missing one."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest

from outboundql import models
from outboundql.goals.testing import registry_with
from outboundql.gql.context import Context
from outboundql.services import campaigns as campaigns_service
from outboundql.services.access import Access
from outboundql.settings import Settings
from tests.api.test_score_campaign import SCORE, Setup
from tests.api.test_score_campaign import settings as settings  # the fixtures
from tests.api.test_score_campaign import setup as setup
from tests.helpers import Person, data_of, global_id

PROGRESS = """
subscription($id: ID!) {
  campaignScoringProgress(campaignId: $id) { status done total failed campaign { scoredAccounts } }
}
"""
EVENTS = """
subscription($id: ID!) {
  campaignEvents(campaignId: $id) { kind campaign { totalAccounts approvedAccounts } scoring { done } }
}
"""


@contextlib.asynccontextmanager
async def subscribed(person: Person, document: str, campaign_gid: str) -> AsyncIterator[Any]:
    """A live subscription on its own context; yields the stream once the resolver listens."""
    from outboundql.gql.schema import schema

    context = Context(request=None, response=None, settings=Settings(database_url="sqlite://:memory:"),  # type: ignore[arg-type]
                      goals=registry_with(), access_or_none=await Access.for_user(person.user))
    stream = await schema.subscribe(document, context_value=context, variable_values={"id": campaign_gid})
    try:
        yield stream
    finally:
        with contextlib.suppress(Exception):
            await stream.aclose()  # type: ignore[union-attr]


async def collect(stream: Any, until: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    async for result in stream:
        assert result.errors is None, result.errors
        out.append(result.data)
        if until(result.data):
            return out
    return out


async def test_progress_streams_from_start_to_completion(gql, setup: Setup, jobs) -> None:
    async with subscribed(setup.owner, PROGRESS, setup.gid) as stream:
        events = asyncio.ensure_future(collect(stream, lambda d: d["campaignScoringProgress"]["status"] != "RUNNING"))
        await asyncio.sleep(0.05)  # let the resolver subscribe to the bus first
        data_of(await gql(SCORE, {"input": {"campaignId": setup.gid}}, as_=setup.owner))
        await jobs()
        seen = [e["campaignScoringProgress"] for e in await asyncio.wait_for(events, timeout=10)]
    assert seen[0]["status"] == "RUNNING" and seen[0]["done"] == 0 and seen[0]["total"] == 7
    assert [s["done"] for s in seen] == sorted(s["done"] for s in seen)  # never goes back
    assert [s["done"] for s in seen if s["status"] == "RUNNING"][1:] == [3, 6, 7]  # one event per batch of 3
    assert seen[-1] == {"status": "COMPLETED", "done": 7, "total": 7, "failed": 0, "campaign": {"scoredAccounts": 7}}


async def test_campaign_events_report_reviews_and_scoring(gql, setup: Setup, jobs) -> None:
    row = await models.CampaignAccount.filter(campaign_id=setup.campaign.id).first()
    assert row is not None
    review = """mutation($input: ReviewCampaignAccountsInput!) {
      reviewCampaignAccounts(input: $input) { changedCount errors { message } } }"""
    async with subscribed(setup.owner, EVENTS, setup.gid) as stream:
        events = asyncio.ensure_future(collect(stream, lambda d: d["campaignEvents"]["kind"] == "SCORING_PROGRESS"))
        await asyncio.sleep(0.05)
        data_of(await gql(review, {"input": {"campaignAccountIds": [global_id("CampaignAccount", row.id)],
                                             "decision": "APPROVED"}}, as_=setup.owner))
        data_of(await gql(SCORE, {"input": {"campaignId": setup.gid}}, as_=setup.owner))
        seen = [e["campaignEvents"] for e in await asyncio.wait_for(events, timeout=10)]
        await jobs()
    assert seen == [
        {"kind": "ACCOUNTS_CHANGED", "campaign": {"totalAccounts": 7, "approvedAccounts": 1}, "scoring": None},
        {"kind": "SCORING_PROGRESS", "campaign": {"totalAccounts": 7, "approvedAccounts": 1}, "scoring": {"done": 0}},
    ]


@pytest.mark.parametrize("document", [PROGRESS, EVENTS])
async def test_another_projects_campaign_is_refused_like_a_missing_one(setup: Setup, make_user, document: str
                                                                       ) -> None:
    stranger = await make_user("stranger@example.com")
    for gid in (setup.gid, global_id("Campaign", 987_654)):
        async with subscribed(stranger, document, gid) as stream:
            result = await asyncio.wait_for(stream.__anext__(), timeout=5)
        assert result.data is None
        assert [(e.message, (e.extensions or {}).get("code")) for e in result.errors] == [
            ("Campaign not found.", "NOT_FOUND")]


async def test_a_campaign_sharing_accounts_hears_when_another_run_scores_them(gql, setup: Setup, jobs) -> None:
    from tests.api.test_score_campaign import make_campaign

    other = await make_campaign(setup.owner, setup.project, setup.product, "Autumn", setup.accounts[:2])
    async with subscribed(setup.owner, EVENTS, global_id("Campaign", other.id)) as stream:
        events = asyncio.ensure_future(collect(stream, lambda d: d["campaignEvents"]["kind"] == "ACCOUNTS_CHANGED"))
        await asyncio.sleep(0.05)
        data_of(await gql(SCORE, {"input": {"campaignId": setup.gid}}, as_=setup.owner))
        await jobs()
        seen = [e["campaignEvents"] for e in await asyncio.wait_for(events, timeout=10)]
    assert seen == [{"kind": "ACCOUNTS_CHANGED", "campaign": {"totalAccounts": 2, "approvedAccounts": 0},
                     "scoring": None}]
    assert (await models.Campaign.get(id=other.id)).scored_accounts == 2


async def test_the_campaign_service_called_directly_publishes_its_events(setup: Setup) -> None:
    """Not only through the API: a job, the CLI or the demo seeder calling the service is heard too."""
    access = await Access.for_user(setup.owner.user)
    async with subscribed(setup.owner, EVENTS, setup.gid) as stream:
        events = asyncio.ensure_future(collect(stream, lambda d: d["campaignEvents"]["kind"] == "CAMPAIGN_UPDATED"))
        await asyncio.sleep(0.05)
        await campaigns_service.set_archived(access, campaigns_service.SetCampaignArchived(id=setup.campaign.id,
                                                                                          archived=True))
        seen = [e["campaignEvents"] for e in await asyncio.wait_for(events, timeout=10)]
    assert seen == [{"kind": "CAMPAIGN_UPDATED", "campaign": {"totalAccounts": 7, "approvedAccounts": 0},
                     "scoring": None}]
