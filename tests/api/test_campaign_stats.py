"""Cached campaign statistics: exact after every operation (compared with `campaign_stats.exact`),
read from the row rather than recounted, repaired by `recount`; and the 10-bucket score histogram."""

from __future__ import annotations

import random
from typing import Any

import pytest

from outboundql import models
from outboundql.enums import AccountStatus, Band, OutreachStatus, ReviewStatus
from outboundql.goals.testing import registry_with
from outboundql.services import campaign_accounts as ca_service
from outboundql.services import campaign_stats
from outboundql.services import campaigns as campaigns_service
from outboundql.services.access import Access
from tests.helpers import Person, data_of, global_id

STATS = """
query($slug: String!, $campaign: String!) {
  project(slug: $slug) { campaign(slug: $campaign) {
    totalAccounts scoredAccounts approvedAccounts outreachedAccounts respondedAccounts responseRate
    scoreDistribution { from to count } staleScoreCount
  } }
}
"""

ADD = """
mutation($input: AddAccountsToCampaignInput!) {
  addAccountsToCampaign(input: $input) { added errors { code } }
}
"""
REVIEW = """
mutation($input: ReviewCampaignAccountsInput!) {
  reviewCampaignAccounts(input: $input) { changedCount errors { code } }
}
"""
UPDATE = """
mutation($input: UpdateCampaignAccountInput!) {
  updateCampaignAccount(input: $input) { campaignAccount { id } errors { code message } }
}
"""
SWITCH = """
mutation($input: UpdateCampaignInput!) { updateCampaign(input: $input) { campaign { id } errors { code } } }
"""

GQL_NAMES = {"total_accounts": "totalAccounts", "scored_accounts": "scoredAccounts",
             "approved_accounts": "approvedAccounts", "outreached_accounts": "outreachedAccounts",
             "responded_accounts": "respondedAccounts"}


@pytest.fixture
async def access(owner: Person, project: models.Project) -> Access:
    return await Access.for_user(owner.user)


async def read(gql: Any, who: Person, project: models.Project, slug: str = "camp") -> dict[str, Any]:
    return data_of(await gql(STATS, {"slug": project.slug, "campaign": slug}, as_=who))["project"]["campaign"]


async def check(gql: Any, who: Person, project: models.Project, campaign: models.Campaign) -> dict[str, int]:
    """The cached counters equal the rows, and GraphQL serves exactly the cached ones (the funnel is returned)."""
    fresh = await models.Campaign.get(id=campaign.id)
    cached = {k: getattr(fresh, k) for k in campaign_stats.COUNTERS}
    assert cached == await campaign_stats.exact(fresh)
    served = await read(gql, who, project, fresh.slug)
    assert {k: served[v] for k, v in GQL_NAMES.items()} == {k: cached[k] for k in GQL_NAMES}
    assert served["staleScoreCount"] == cached["stale_score_count"]
    assert [b["count"] for b in served["scoreDistribution"]] == [cached[f"score_bucket_{i}"] for i in range(10)]
    outreached, responded = cached["outreached_accounts"], cached["responded_accounts"]
    assert served["responseRate"] == (round(responded / outreached, 4) if outreached else 0)
    return {k: cached[k] for k in GQL_NAMES}


def counters(total: int = 0, scored: int = 0, approved: int = 0, outreached: int = 0, responded: int = 0
             ) -> dict[str, int]:
    return dict(zip(GQL_NAMES, (total, scored, approved, outreached, responded), strict=True))


async def accounts_with_scores(project: models.Project, product: models.Product, n: int
                               ) -> list[models.Account]:
    made = [await models.Account.create(project=project, name=f"A{i:02d}") for i in range(n)]
    for i, account in enumerate(made):
        if i % 2 == 0:
            await models.FitScore.create(project=project, product=product, account=account, goal_key="sales",
                                         score=float(i % 10), band=Band.MISMATCH, scorer="test")
        if i % 3 == 0:
            await models.FitScore.create(project=project, product=product, account=account, goal_key="press",
                                         score=5.0, band=Band.MODERATE, scorer="test")
    return made


async def test_exact_after_every_graphql_operation(gql, owner, project, product, campaign) -> None:
    made = await accounts_with_scores(project, product, 12)  # sales scores: 0,2,4,6,8,10 → 6; press: 0,3,6,9
    press = await models.Account.create(project=project, name="Press", status=AccountStatus.PRESS)
    cid = global_id("Campaign", campaign.id)
    assert await check(gql, owner, project, campaign) == counters()

    async def add(accounts: list[models.Account], **overrides: bool) -> None:
        payload = data_of(await gql(ADD, {"input": {"campaignId": cid, "overrides": overrides or None,
                                                    "accountIds": [global_id("Account", a.id) for a in accounts]}},
                                    as_=owner))["addAccountsToCampaign"]
        assert payload["errors"] == []

    await add([*made[:8], press])
    assert await check(gql, owner, project, campaign) == counters(8, 4)
    await add(made[4:12])  # overlapping
    assert await check(gql, owner, project, campaign) == counters(12, 6)
    await add([press], includePress=True)
    assert await check(gql, owner, project, campaign) == counters(13, 6)

    rows = {r.account_id: r for r in await models.CampaignAccount.filter(campaign_id=campaign.id)}
    ca = [global_id("CampaignAccount", rows[a.id].id) for a in made]

    async def review(ids: list[str], decision: str) -> None:
        payload = data_of(await gql(REVIEW, {"input": {"campaignAccountIds": ids, "decision": decision}},
                                    as_=owner))["reviewCampaignAccounts"]
        assert payload["errors"] == []

    await review(ca[:6], "APPROVED")
    assert await check(gql, owner, project, campaign) == counters(13, 6, 6)
    await review(ca[4:9], "APPROVED")
    assert await check(gql, owner, project, campaign) == counters(13, 6, 9)
    await review(ca[:2], "REJECTED")
    await review(ca[2:3], "PENDING")
    assert await check(gql, owner, project, campaign) == counters(13, 6, 6)

    async def outreach(i: int, status: str, ok: bool = True) -> None:
        payload = data_of(await gql(UPDATE, {"input": {"id": ca[i], "outreachStatus": status}},
                                    as_=owner))["updateCampaignAccount"]
        assert (payload["errors"] == []) is ok, payload

    for i, status in ((0, "DRAFT"), (0, "SENT"), (1, "SENT"), (2, "SCHEDULED"), (1, "RESPONDED"), (0, "SENT"),
                      (3, "RESPONDED"), (4, "BOUNCED")):
        await outreach(i, status)
    assert await check(gql, owner, project, campaign) == counters(13, 6, 6, 4, 2)
    await outreach(1, "SENT", ok=False)  # backward: refused, nothing moves
    await outreach(4, "DRAFT", ok=False)
    assert await check(gql, owner, project, campaign) == counters(13, 6, 6, 4, 2)
    assert (await read(gql, owner, project))["responseRate"] == 0.5

    switched = data_of(await gql(SWITCH, {"input": {"id": cid, "goal": "press"}}, as_=owner))["updateCampaign"]
    assert switched["errors"] == []
    assert await check(gql, owner, project, campaign) == counters(13, 4, 6, 4, 2)
    data_of(await gql(SWITCH, {"input": {"id": cid, "goal": "sales"}}, as_=owner))
    assert await check(gql, owner, project, campaign) == counters(13, 6, 6, 4, 2)

    # deleting another campaign that shares accounts leaves this one's statistics alone
    access = await Access.for_user(owner.user)
    other = (await campaigns_service.create_campaign(access, registry_with(), campaigns_service.CreateCampaign(
        project_id=project.id, product_id=product.id, name="Other"))).campaign
    await ca_service.add_accounts(access, registry_with(),
                                  ca_service.AddAccountsToCampaign(other.id, [a.id for a in made]))
    await campaigns_service.delete_campaign(access, campaigns_service.DeleteCampaign(id=other.id, confirm_name="Other"))
    assert await check(gql, owner, project, campaign) == counters(13, 6, 6, 4, 2)
    await campaigns_service.set_archived(access, campaigns_service.SetCampaignArchived(id=campaign.id, archived=True))
    assert await check(gql, owner, project, campaign) == counters(13, 6, 6, 4, 2)


async def test_random_service_operations_stay_exact(gql, owner, project, product, campaign, access) -> None:
    made = await accounts_with_scores(project, product, 30)
    blocked = [await models.Account.create(project=project, name=f"B{i}", status=s)
               for i, s in enumerate((AccountStatus.CUSTOMER, AccountStatus.DO_NOT_CONTACT))]
    pool = [a.id for a in made + blocked]
    rng = random.Random(20240601)
    registry = registry_with()
    for step in range(60):
        kind = rng.choice(["add", "add", "review", "review", "outreach", "outreach", "override", "goal"])
        present = list(await models.CampaignAccount.filter(campaign_id=campaign.id).values_list("id", flat=True))
        if kind == "add" or not present:
            overrides = ["include_customers"] if rng.random() < 0.3 else []
            await ca_service.add_accounts(access, registry, ca_service.AddAccountsToCampaign(
                campaign.id, rng.sample(pool, rng.randint(1, 8)), overrides=overrides))
        elif kind == "review":
            decision = rng.choice(list(ReviewStatus))
            await ca_service.review(access, ca_service.ReviewCampaignAccounts(
                rng.sample(present, min(len(present), rng.randint(1, 6))), decision))
        elif kind == "outreach":
            status = rng.choice(list(OutreachStatus))
            try:
                await ca_service.update_campaign_account(access, ca_service.UpdateCampaignAccount(
                    rng.choice(present), outreach_status=status))
            except Exception as exc:  # a backward move
                assert "forward" in str(exc)
        elif kind == "override":
            await ca_service.set_override_score(access, ca_service.SetOverrideScore(
                rng.choice(present), rng.choice([None, 2.5, 9.1])))
        else:
            fresh = await models.Campaign.get(id=campaign.id)
            await campaigns_service.update_campaign(access, registry, campaigns_service.UpdateCampaign(
                id=campaign.id, goal="press" if fresh.goal_key == "sales" else "sales"))
        fresh = await models.Campaign.get(id=campaign.id)
        assert {k: getattr(fresh, k) for k in campaign_stats.COUNTERS} == await campaign_stats.exact(fresh), step
    await check(gql, owner, project, campaign)
    assert await campaign_stats.recount([campaign.id]) == []


async def test_statistics_are_cached_and_recount_repairs_drift(gql, owner, project, product, campaign,
                                                               access) -> None:
    made = await accounts_with_scores(project, product, 6)
    await ca_service.add_accounts(access, registry_with(),
                                  ca_service.AddAccountsToCampaign(campaign.id, [a.id for a in made]))
    healthy = await check(gql, owner, project, campaign)
    assert healthy == counters(6, 3)
    other = (await campaigns_service.create_campaign(access, registry_with(), campaigns_service.CreateCampaign(
        project_id=project.id, product_id=product.id, name="Second"))).campaign
    assert await campaign_stats.recount() == []

    await models.Campaign.filter(id=campaign.id).update(total_accounts=99, approved_accounts=-3)
    served = await read(gql, owner, project)
    assert (served["totalAccounts"], served["approvedAccounts"]) == (99, -3)  # read from the row, not recounted

    [drift] = await campaign_stats.recount()
    assert (drift.campaign_id, drift.slug) == (campaign.id, "camp")
    assert drift.fields == ["total_accounts", "approved_accounts"]
    assert drift.cached["total_accounts"] == 99 and {k: drift.actual[k] for k in GQL_NAMES} == healthy
    assert await check(gql, owner, project, campaign) == healthy
    assert await campaign_stats.recount([campaign.id, other.id]) == []


async def test_score_distribution_has_ten_buckets_of_the_current_goal(gql, owner, project, product, campaign,
                                                                      access) -> None:
    values = [0.0, 0.9, 1.0, 4.9, 5.0, 7.99, 8.0, 9.0, 9.5, 10.0]
    made = []
    for i, value in enumerate(values):
        account = await models.Account.create(project=project, name=f"S{i}")
        await models.FitScore.create(project=project, product=product, account=account, goal_key="sales",
                                     score=value, band=Band.MISMATCH, scorer="test")
        made.append(account)
    stale = await models.Account.create(project=project, name="stale")  # a press score only: not counted
    await models.FitScore.create(project=project, product=product, account=stale, goal_key="press", score=3.0,
                                 band=Band.MISMATCH, scorer="test")
    outsider = await models.Account.create(project=project, name="outsider")  # scored, not in the campaign
    await models.FitScore.create(project=project, product=product, account=outsider, goal_key="sales", score=3.0,
                                 band=Band.MISMATCH, scorer="test")
    await ca_service.add_accounts(access, registry_with(),
                                  ca_service.AddAccountsToCampaign(campaign.id, [a.id for a in [*made, stale]]))

    buckets = (await read(gql, owner, project))["scoreDistribution"]
    assert [(b["from"], b["to"]) for b in buckets] == [(float(i), float(i + 1)) for i in range(10)]
    assert [b["count"] for b in buckets] == [2, 1, 0, 0, 1, 1, 0, 1, 1, 3]
    assert sum(b["count"] for b in buckets) == (await check(gql, owner, project, campaign))["scored_accounts"]

    await campaigns_service.update_campaign(access, registry_with(),
                                            campaigns_service.UpdateCampaign(id=campaign.id, goal="press"))
    press = (await read(gql, owner, project))["scoreDistribution"]
    assert [b["count"] for b in press] == [0, 0, 0, 1, 0, 0, 0, 0, 0, 0]


async def test_an_empty_campaign(gql, owner, project, campaign) -> None:
    served = await read(gql, owner, project)
    assert served["responseRate"] == 0
    assert [b["count"] for b in served["scoreDistribution"]] == [0] * 10
