"""Project statistics: the funnel, response rates and call metrics by campaign, product and market."""

from __future__ import annotations

import strawberry

from outboundql import enums
from outboundql.gql.campaigns import Campaign
from outboundql.gql.enums import Channel
from outboundql.gql.expenses import CostRatio, Money
from outboundql.gql.markets import Market
from outboundql.gql.products import Product
from outboundql.services import stats as stats_service


@strawberry.type(description="total → scored → approved → outreached → responded → customer, in accounts.")
class Funnel:
    total: int
    scored: int
    approved: int
    outreached: int
    responded: int
    customer: int = strawberry.field(description="Accounts that became customers after joining the campaign; for a "
                                     "product, market or the project, distinct accounts (one won by two "
                                     "campaigns counts once).")


@strawberry.type(description="Accounts reached and answering on one channel.")
class ChannelResponse:
    channel: Channel
    outreached: int = strawberry.field(description="Accounts with a sent outbound message on this channel.")
    responded: int = strawberry.field(description="Of the accounts outreached on this channel, those that answered "
                                      "(on any channel): never more than outreached.")
    response_rate: float = strawberry.field(description="responded / outreached; 0 when none.")


@strawberry.type(description="Phone outreach and what conversations produced.")
class CallMetrics:
    calls_made: int
    calls_connected: int = strawberry.field(description="Calls with outcome CONNECTED or MEETING_BOOKED.")
    connection_rate: float = strawberry.field(description="calls connected / calls made; 0 when none.")
    meetings_booked: int = strawberry.field(
        description="Meetings booked: distinct campaign accounts with a sent message (any channel) whose outcome is "
        "MEETING_BOOKED; a booked call and the e-mail confirming it count once. Summed over campaigns.")
    signals_captured: int = strawberry.field(
        description="Confirmed signals on sent messages (proposed and dismissed ones do not count).")


@strawberry.type(description="The numbers of one campaign, or the sum of a group of campaigns.")
class Stats:
    campaign_count: int
    funnel: Funnel
    response_rate: float = strawberry.field(description="responded / outreached; 0 when none.")
    response_rate_by_channel: list[ChannelResponse]
    calls: CallMetrics
    customers_last_30_days: int = strawberry.field(
        description="Accounts that became customers in the trailing 30 days, attributed to the campaign they "
        "had joined before; distinct accounts for a product, market or the project.")
    expenses_last_30_days: list[Money] = strawberry.field(
        description="Expenses incurred (by `incurredOn`) in the trailing 30 days — today (UTC) and the 29 days "
        "before — one exact total per currency (never converted), by currency code; summed over campaigns.")
    cost_per_customer_last_30_days: CostRatio = strawberry.field(
        description="Closed-won customer cost of the trailing 30 days: `expensesLast30Days` ÷ "
        "`customersLast30Days` (the same cohort: accounts that became customers in the window after joining a "
        "campaign; distinct accounts for a product, market or the project), rounded to the cent. `value` only "
        "when those expenses use one currency; otherwise `reason` says why (several currencies, no expense in "
        "the window, no customer in the window). Paid API usage (USD) is never in it.")
    goals_achieved: int = strawberry.field(
        description="Campaign accounts whose goal outcome is ACHIEVED (what each goal calls its `outcomeLabel`: a "
        "meeting booked, a hire…); summed over campaigns.")
    goals_lost: int = strawberry.field(
        description="Campaign accounts whose goal outcome is LOST; summed over campaigns.")

    @classmethod
    def from_stats(cls, s: stats_service.Stats) -> Stats:
        return cls(
            campaign_count=s.campaign_count,
            funnel=Funnel(total=s.total, scored=s.scored, approved=s.approved, outreached=s.outreached,
                          responded=s.responded, customer=s.customers),
            response_rate=s.response_rate,
            response_rate_by_channel=[
                ChannelResponse(channel=enums.Channel(ch), outreached=c.outreached, responded=c.responded,
                                response_rate=c.rate)
                for ch, c in sorted(s.channels.items())
            ],
            calls=CallMetrics(calls_made=s.calls_made, calls_connected=s.calls_connected,
                              connection_rate=s.connection_rate, meetings_booked=s.meetings_booked,
                              signals_captured=s.signals_captured),
            customers_last_30_days=s.customers_last_30_days,
            expenses_last_30_days=[Money(amount=m.amount, currency=m.currency) for m in s.expenses_last_30_days],
            cost_per_customer_last_30_days=CostRatio.from_ratio(s.cost_per_customer_last_30_days),
            goals_achieved=s.goals_achieved,
            goals_lost=s.goals_lost,
        )


@strawberry.type
class CampaignStats:
    campaign: Campaign
    stats: Stats


@strawberry.type
class ProductStats:
    product: Product
    stats: Stats


@strawberry.type(description="A market's numbers: the sum of its campaigns'.")
class MarketStats:
    market: Market
    stats: Stats


@strawberry.type(description="The project's numbers, overall and by campaign, product and market.")
class ProjectStats:
    totals: Stats
    by_campaign: list[CampaignStats]
    by_product: list[ProductStats]
    by_market: list[MarketStats]


async def project_stats(project_id: int, include_archived: bool) -> ProjectStats:
    result = await stats_service.project_stats(project_id, include_archived=include_archived)
    return ProjectStats(
        totals=Stats.from_stats(result.totals),
        by_campaign=[CampaignStats(campaign=Campaign.from_model(c), stats=Stats.from_stats(s))
                     for c, s in result.campaigns],
        by_product=[ProductStats(product=Product.from_model(p), stats=Stats.from_stats(s))
                    for p, s in result.products],
        by_market=[MarketStats(market=Market.from_model(m), stats=Stats.from_stats(s)) for m, s in result.markets],
    )
