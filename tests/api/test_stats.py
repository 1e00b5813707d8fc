"""Project.stats: funnel, response rate per channel, call metrics, product and market roll-ups, customers
of the trailing 30 days; and its cost in SQL does not grow with the number of campaigns."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from outboundql import models
from outboundql.enums import (
    AccountStatus,
    CallOutcome,
    Channel,
    Direction,
    GoalOutcome,
    MessageMode,
    MessageStatus,
    ReviewStatus,
    SignalStatus,
    StatusSource,
)
from outboundql.services import messages as messages_service
from outboundql.services.signals import SignalIn
from tests.api.test_log_message import make_account, make_campaign
from tests.helpers import Person, access_for, data_of, warm_up

STATS = """
query($slug: String!) {
  project(slug: $slug) {
    stats {
      totals { campaignCount funnel { total outreached responded customer } responseRate customersLast30Days
               goalsAchieved goalsLost
               calls { callsMade callsConnected connectionRate meetingsBooked signalsCaptured } }
      byCampaign {
        campaign { name }
        stats {
          funnel { total scored approved outreached responded customer }
          responseRate
          responseRateByChannel { channel outreached responded responseRate }
          calls { callsMade callsConnected connectionRate meetingsBooked signalsCaptured }
          customersLast30Days
        }
      }
      byProduct { product { name } stats { campaignCount funnel { total outreached responded customer }
                                           customersLast30Days } }
      byMarket { market { name } stats { campaignCount funnel { total outreached customer } customersLast30Days
                                         calls { callsMade } } }
    }
  }
}
"""


async def _log(owner: Person, campaign: models.Campaign, account: models.Account, **data: Any) -> None:
    row = await models.CampaignAccount.get(campaign_id=campaign.id, account_id=account.id)
    await messages_service.log_message(await access_for(owner),
                                       messages_service.LogMessage(campaign_account_id=row.id, text="x", **data))


async def test_stats_by_campaign_product_and_market(gql, owner: Person, project: models.Project) -> None:
    a, b, c, d = [await make_account(owner, project, name) for name in ("Alpha", "Beta", "Gamma", "Delta")]
    email = await make_campaign(owner, project, "Email push", accounts=[a, b, c])
    calls = await make_campaign(owner, project, "Call blitz", accounts=[a, d])
    market = await models.Market.create(project=project, name="Iberia", slug="iberia")
    await models.Campaign.filter(id__in=[email.id, calls.id]).update(market_id=market.id)
    await models.CampaignAccount.filter(campaign_id=email.id, account_id=a.id).update(
        review_status=ReviewStatus.APPROVED)
    await models.Campaign.filter(id=email.id).update(approved_accounts=1)

    # email: a and b reached by e-mail, a answers by e-mail, b on LinkedIn; c untouched
    await _log(owner, email, a, signals=(SignalIn("budget", "Budget in Q3"), SignalIn("competitor", "Uses SAP")))
    await _log(owner, email, b)
    await _log(owner, email, a, direction=Direction.INBOUND)
    await _log(owner, email, b, direction=Direction.INBOUND, channel=Channel.LINKEDIN)
    await _log(owner, email, c, status=MessageStatus.DRAFT, mode=MessageMode.AI_DRAFT)  # drafts count nothing
    # calls: three calls to d (no answer, connected, meeting), one to a (busy); an e-mail confirming the meeting
    for outcome in (CallOutcome.NO_ANSWER, CallOutcome.CONNECTED, CallOutcome.MEETING_BOOKED):
        await _log(owner, calls, d, channel=Channel.PHONE_CALL, outcome=outcome,
                   signals=(SignalIn("timing", "Decision in May"),))
    await _log(owner, calls, a, channel=Channel.PHONE_CALL, outcome=CallOutcome.BUSY)
    await _log(owner, calls, d, outcome=CallOutcome.MEETING_BOOKED)

    # a becomes a customer now (after joining both campaigns); d became one 40 days ago (outside the window)
    for account, when in ((a, datetime.now(UTC)), (d, datetime.now(UTC) - timedelta(days=40))):
        await models.Account.filter(id=account.id).update(status=AccountStatus.CUSTOMER)
        change = await models.AccountStatusChange.create(account_id=account.id, to_status=AccountStatus.CUSTOMER,
                                                         source=StatusSource.MANUAL)
        await models.AccountStatusChange.filter(id=change.id).update(created_at=when)
    await models.CampaignAccount.filter(account_id=d.id).update(created_at=datetime.now(UTC) - timedelta(days=50))

    stats = data_of(await gql(STATS, {"slug": project.slug}, as_=owner))["project"]["stats"]
    by_campaign = {s["campaign"]["name"]: s["stats"] for s in stats["byCampaign"]}
    e = by_campaign["Email push"]
    assert e["funnel"] == {"total": 3, "scored": 0, "approved": 1, "outreached": 2, "responded": 2, "customer": 1}
    assert e["responseRate"] == 1.0
    # b answered on LinkedIn after an e-mail: the reply credits the channel it was reached on (never > 100%)
    assert e["responseRateByChannel"] == [
        {"channel": "EMAIL", "outreached": 2, "responded": 2, "responseRate": 1.0},
    ]
    assert e["calls"] == {"callsMade": 0, "callsConnected": 0, "connectionRate": 0.0, "meetingsBooked": 0,
                          "signalsCaptured": 2}
    assert e["customersLast30Days"] == 1

    k = by_campaign["Call blitz"]
    assert k["funnel"] == {"total": 2, "scored": 0, "approved": 0, "outreached": 2, "responded": 0, "customer": 2}
    # meetings booked count accounts, not messages: d's booked call and the e-mail confirming it are one meeting
    assert k["calls"] == {"callsMade": 4, "callsConnected": 2, "connectionRate": 0.5, "meetingsBooked": 1,
                          "signalsCaptured": 3}
    assert k["customersLast30Days"] == 1  # d's win is 40 days old
    assert {r["channel"]: r["outreached"] for r in k["responseRateByChannel"]} == {"EMAIL": 1, "PHONE_CALL": 2}

    totals = stats["totals"]
    assert totals["campaignCount"] == 2
    # a is in both campaigns: a customer of each campaign, but one customer of the project
    assert totals["funnel"] == {"total": 5, "outreached": 4, "responded": 2, "customer": 2}
    assert totals["responseRate"] == 0.5 and totals["customersLast30Days"] == 1
    assert totals["calls"]["callsMade"] == 4 and totals["calls"]["meetingsBooked"] == 1
    assert stats["byProduct"] == [{"product": {"name": "Widget"}, "stats": {
        "campaignCount": 2, "funnel": {"total": 5, "outreached": 4, "responded": 2, "customer": 2},
        "customersLast30Days": 1}}]
    assert stats["byMarket"] == [{"market": {"name": "Iberia"}, "stats": {
        "campaignCount": 2, "funnel": {"total": 5, "outreached": 4, "customer": 2}, "customersLast30Days": 1,
        "calls": {"callsMade": 4}}}]


async def test_another_projects_stats_are_invisible(gql, owner: Person, make_user: Any, make_project: Any) -> None:
    stranger = await make_user("stranger@example.com")
    theirs = await make_project(stranger, "Theirs")
    await make_campaign(stranger, theirs, "Secret")
    assert data_of(await gql(STATS, {"slug": theirs.slug}, as_=owner)) == {"project": None}


async def _seed(owner: Person, project: models.Project, n: int) -> None:
    product = await models.Product.create(project=project, name=f"P{n}", slug=f"p{n}")
    market = await models.Market.create(project=project, name=f"M{n}", slug=f"m{n}")
    account = await models.Account.create(project=project, name=f"Acc {n}", status=AccountStatus.CUSTOMER)
    await models.AccountStatusChange.create(account=account, to_status=AccountStatus.CUSTOMER,
                                            source=StatusSource.MANUAL)
    await models.Campaign.bulk_create([
        models.Campaign(project=project, product=product, market=market if i % 2 else None, name=f"C{i}",
                        slug=f"c{n}-{i}", total_accounts=1, outreached_accounts=1)
        for i in range(n)
    ])
    campaigns = await models.Campaign.filter(project_id=project.id).order_by("id")
    await models.CampaignAccount.bulk_create([
        models.CampaignAccount(campaign=c, account=account, created_at=datetime.now(UTC) - timedelta(days=1),
                               goal_outcome=(GoalOutcome.ACHIEVED, GoalOutcome.LOST, GoalOutcome.OPEN)[i % 3])
        for i, c in enumerate(campaigns)
    ])
    rows = await models.CampaignAccount.filter(campaign__project_id=project.id)
    campaign_of = {row.id: row.campaign_id for row in rows}
    await models.Message.bulk_create([
        models.Message(project=project, campaign_account=row, direction=direction, channel=channel,
                       status=MessageStatus.SENT, mode=MessageMode.LOG_SENT, outcome=outcome,
                       sent_at=datetime.now(UTC))
        for row in rows
        for direction, channel, outcome in (
            (Direction.OUTBOUND, Channel.PHONE_CALL, CallOutcome.CONNECTED),
            (Direction.OUTBOUND, Channel.EMAIL, None),
            (Direction.INBOUND, Channel.EMAIL, CallOutcome.MEETING_BOOKED),
        )
    ])
    await models.Signal.bulk_create([  # one confirmed signal per message; proposed and dismissed ones count nothing
        models.Signal(project=project, message=m, campaign_account_id=m.campaign_account_id,
                      campaign_id=campaign_of[m.campaign_account_id], kind="timing", text="s", status=status)
        for m in await models.Message.filter(project_id=project.id)
        for status in (SignalStatus.CONFIRMED, SignalStatus.PROPOSED, SignalStatus.DISMISSED)
    ])


async def test_stats_cost_a_bounded_number_of_queries(
    gql, owner: Person, project: models.Project, make_project: Any, count_queries: Any
) -> None:
    small = await make_project(owner, "Small")
    await _seed(owner, small, 5)
    await _seed(owner, project, 50)

    await warm_up(gql, owner)
    with count_queries() as few:
        small_stats = data_of(await gql(STATS, {"slug": small.slug}, as_=owner))["project"]["stats"]
    with count_queries() as many:
        big_stats = data_of(await gql(STATS, {"slug": project.slug}, as_=owner))["project"]["stats"]

    assert len(small_stats["byCampaign"]) == 5 and len(big_stats["byCampaign"]) == 50
    totals = big_stats["totals"]
    # one customer account in all 50 campaigns: a customer of each campaign, one customer of the project
    assert [c["stats"]["funnel"]["customer"] for c in big_stats["byCampaign"]] == [1] * 50
    assert totals["funnel"]["customer"] == 1 and totals["customersLast30Days"] == 1
    assert big_stats["byMarket"][0]["stats"]["funnel"]["customer"] == 1
    assert totals["calls"]["callsMade"] == 50
    assert (totals["goalsAchieved"], totals["goalsLost"]) == (17, 17)  # campaigns 0, 3… and 1, 4… of 50
    assert totals["calls"]["meetingsBooked"] == 50 and totals["calls"]["signalsCaptured"] == 150
    assert big_stats["byMarket"][0]["stats"]["campaignCount"] == 25
    # the e-mail reply of each campaign credits its e-mail outreach; no channel answers above 100%
    for row in big_stats["byCampaign"]:
        assert {(r["channel"], r["outreached"], r["responded"]) for r in row["stats"]["responseRateByChannel"]} == {
            ("EMAIL", 1, 1), ("PHONE_CALL", 1, 1)}
    assert many.selects == few.selects
    assert many.selects <= 11  # the project, then ten aggregate queries (services/stats.py)
