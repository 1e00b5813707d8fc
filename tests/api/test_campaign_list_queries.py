"""A page of campaigns with their counters, goal, product, ICP, stale counts and scoring runs costs a constant
number of SQL queries, however many campaigns it holds."""

from __future__ import annotations

from typing import Any

from outboundql import models
from outboundql.classifiers import ReplyClass
from outboundql.enums import Band
from outboundql.services import campaign_stats
from tests.helpers import data_of

CAMPAIGNS = """
query($slug: String!, $first: Int!) {
  project(slug: $slug) {
    campaigns(first: $first) {
      totalCount
      edges { node { id name goal { key label } product { name } icp { version } totalAccounts scoredAccounts
                     responseRate staleScoreCount effectiveLanguage scoringStatus scoringProgress { done total }
                     scoringRuns(limit: 3) { status total } scoreDistribution { from count }
                     replyClassCounts { label count } } }
    }
  }
}
"""


async def _seed(project: models.Project, count: int) -> None:
    product = await models.Product.create(project=project, name="Widget", slug="widget")
    accounts = [await models.Account.create(project=project, name=f"A{i}") for i in range(3)]
    for account in accounts[:2]:  # scored under press only: stale for sales campaigns
        await models.FitScore.create(project=project, product=product, account=account, goal_key="press",
                                     score=6.0, band=Band.MODERATE, scorer="test")
    for n in range(count):
        campaign = await models.Campaign.create(project=project, product=product, name=f"C{n}", slug=f"c{n}",
                                                goal_key="sales" if n % 2 else "press")
        for k, account in enumerate(accounts):
            await models.CampaignAccount.create(campaign=campaign, account=account,
                                                reply_class=ReplyClass.INTERESTED if k < n % 3 else None)
        for _ in range(n % 3):
            await models.ScoringRun.create(project=project, campaign=campaign, product=product, scorer="rubric",
                                           goal_key=campaign.goal_key, total=3, done=3, status="completed")
    await campaign_stats.recount()  # rows made by hand: their kept scores and the counters, from the fit scores


async def test_a_page_of_campaigns_costs_constant_queries(gql: Any, owner: Any, project: models.Project,
                                                          count_queries: Any) -> None:
    await _seed(project, 30)

    async def selects(first: int) -> tuple[int, list[dict[str, Any]]]:
        with count_queries() as q:
            data = data_of(await gql(CAMPAIGNS, {"slug": project.slug, "first": first}, as_=owner))
        return q.selects, [e["node"] for e in data["project"]["campaigns"]["edges"]]

    await selects(1)  # warm: whatever a first request of the token caches is not the page's cost
    small, _ = await selects(4)
    large, many = await selects(30)
    assert small == large
    assert len(many) == 30
    stale = {c["name"]: c["staleScoreCount"] for c in many}
    assert {stale[f"C{n}"] for n in range(30) if n % 2} == {2}  # sales campaigns: 2 accounts scored only for press
    assert {stale[f"C{n}"] for n in range(30) if not n % 2} == {0}
    assert {c["name"]: len(c["scoringRuns"]) for c in many} == {f"C{n}": n % 3 for n in range(30)}
    assert {c["name"]: c["replyClassCounts"] for c in many} == {
        f"C{n}": [{"label": "INTERESTED", "count": n % 3}] if n % 3 else [] for n in range(30)}
    # Press campaigns: the two press scores (6.0) in the [6, 7) bar; sales campaigns: no sales score.
    assert {tuple(b["count"] for b in c["scoreDistribution"]) for c in many if c["name"] in {"C0", "C2"}} == {
        (0, 0, 0, 0, 0, 0, 2, 0, 0, 0)}
    assert {sum(b["count"] for b in c["scoreDistribution"]) for c in many if c["name"] in {"C1", "C3"}} == {0}
