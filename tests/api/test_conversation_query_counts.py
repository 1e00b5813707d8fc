"""No N+1 on the conversation and money fields: threads, attention, expenses and costs of a page cost the
same number of SELECTs for 3 rows as for 40."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from outboundql import models
from outboundql.enums import Direction, ExpenseKind, MessageMode, MessageStatus, UsageOperation
from tests.helpers import Person, data_of, warm_up

CAMPAIGNS = """
query($slug: String!) {
  project(slug: $slug) {
    campaigns(first: 100) { edges { node {
      name
      expenses { amount currency }
      costs { totals { amount currency } costPerOutreached { value { amount } reason } customerAccounts
              apiUsage { calls byModel { model costUsd } } }
    } } }
  }
}
"""

THREADS = """
query($slug: String!, $campaign: String!) {
  project(slug: $slug) { campaign(slug: $campaign) {
    accounts(first: 100) { edges { node {
      account { name }
      attention { unsentDrafts awaitingReply lastInboundAt }
      messages { direction originalText contact { name } createdBy { email } campaign { name } }
    } } }
  } }
}
"""


async def seed(owner: Person, project: models.Project, n: int) -> None:
    product = await models.Product.create(project=project, name="P", slug="p")
    await models.Campaign.bulk_create([
        models.Campaign(project=project, product=product, name=f"C{i}", slug=f"c{i}", outreached_accounts=2)
        for i in range(n)
    ])
    campaigns = await models.Campaign.filter(project_id=project.id).order_by("id")
    await models.Expense.bulk_create([
        models.Expense(project=project, campaign=c, kind=ExpenseKind.LABOR, amount=Decimal("10.00"), currency=cur,
                       incurred_on=datetime.now(UTC).date())
        for c in campaigns for cur in ("EUR", "EUR")
    ])
    await models.ApiUsage.bulk_create([
        models.ApiUsage(project=project, campaign=c, provider="openai", model="m", operation=UsageOperation.DRAFT,
                        cost_usd=Decimal("0.01"))
        for c in campaigns
    ])
    await models.Account.bulk_create([models.Account(project=project, name=f"A{i}") for i in range(n)])
    accounts = await models.Account.filter(project_id=project.id).order_by("id")
    await models.Contact.bulk_create([models.Contact(project=project, account=a, name=f"Person {a.name}")
                                      for a in accounts])
    contacts = {c.account_id: c for c in await models.Contact.filter(project_id=project.id)}
    first = campaigns[0]
    await models.CampaignAccount.bulk_create([models.CampaignAccount(campaign=first, account=a) for a in accounts])
    rows = await models.CampaignAccount.filter(campaign_id=first.id)
    await models.Message.bulk_create([
        models.Message(project=project, campaign_account=row, direction=direction, status=status,
                       mode=MessageMode.LOG_SENT, original_text=text, contact=contacts[row.account_id],
                       created_by=owner.user, sent_at=datetime.now(UTC) if status is MessageStatus.SENT else None)
        for row in rows
        for direction, status, text in ((Direction.OUTBOUND, MessageStatus.SENT, "hi"),
                                        (Direction.INBOUND, MessageStatus.SENT, "hello"),
                                        (Direction.OUTBOUND, MessageStatus.DRAFT, "draft"))
    ])


async def test_campaign_list_with_costs_and_threads_cost_constant_selects(
    gql: Any, owner: Person, project: models.Project, make_project: Any, count_queries: Any
) -> None:
    small = await make_project(owner, "Small")
    await seed(owner, small, 3)
    await seed(owner, project, 40)

    counts = {}
    for p in (small, project):
        await warm_up(gql, owner)
        with count_queries() as q:
            campaigns = data_of(await gql(CAMPAIGNS, {"slug": p.slug}, as_=owner))["project"]["campaigns"]["edges"]
        with count_queries() as t:
            threads = data_of(await gql(THREADS, {"slug": p.slug, "campaign": "c0"}, as_=owner))
        counts[p.slug] = (q.selects, t.selects)
        node = campaigns[0]["node"]
        assert node["costs"]["totals"] == [{"amount": "20.00", "currency": "EUR"}]
        assert node["costs"]["costPerOutreached"] == {"value": {"amount": "10.00"}, "reason": None}
        assert node["costs"]["apiUsage"]["calls"] == 1 and len(node["expenses"]) == 2
        edges = threads["project"]["campaign"]["accounts"]["edges"]
        thread = edges[0]["node"]
        assert [m["originalText"] for m in thread["messages"]] == ["hi", "hello", "draft"]
        assert thread["messages"][0]["contact"]["name"].startswith("Person")
        assert thread["attention"]["unsentDrafts"] == 1 and thread["attention"]["awaitingReply"] is True
    assert len(campaigns) == 40 and len(edges) == 40
    assert counts[small.slug] == counts[project.slug]
