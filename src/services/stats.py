"""Project statistics by campaign, product and market, in a fixed number of aggregate queries.

The funnel total → scored → approved → outreached → responded comes from each campaign's cached
counters; customers are the campaign's accounts that became customers after they joined it, and
``customers_last_30_days`` those that did within the trailing 30 days. Per-channel response
rates count distinct campaign accounts with a sent outbound on that channel (outreached), and
those of them that answered, on any channel (responded): a reply credits the channels the
account was reached on, so no channel answers above 100%. Call metrics: calls made (sent
outbound phone calls), connection rate (calls CONNECTED or MEETING_BOOKED ÷ calls made),
meetings booked (distinct campaign accounts with a sent message of any channel with outcome
MEETING_BOOKED: a booked call and the e-mail confirming it are one meeting), signals captured
(confirmed signals on sent messages; proposed and dismissed ones do not count).

Cost per customer of the trailing 30 days: the expenses incurred (``incurred_on``) in the 30 days ending
today (UTC: today and the 29 days before), per currency, ÷ the customers of the trailing 30 days above; a
ratio only when those expenses use one currency, otherwise (or with no expense, or no customer) the reason.
Amounts are exact decimals, never converted.

Products, markets and the project totals are the sums of their campaigns, except customers:
an account won by two campaigns is one customer of the product, market and project (distinct
accounts). Every query groups over the whole
project, so the cost does not grow with the number of campaigns.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from tortoise import connections

from outboundql import models
from outboundql.enums import AccountStatus, CallOutcome, Channel, Direction, GoalOutcome, MessageStatus, SignalStatus
from outboundql.services import sql
from outboundql.services.expenses import CENT, Money, Ratio, ratio

WINDOW_DAYS = 30
NO_RECENT_EXPENSES = f"No expenses were incurred in the trailing {WINDOW_DAYS} days."
NO_RECENT_CUSTOMERS = f"No account became a customer in the trailing {WINDOW_DAYS} days"


@dataclass(slots=True)
class ChannelCounts:
    outreached: int = 0
    responded: int = 0

    @property
    def rate(self) -> float:
        return round(self.responded / self.outreached, 4) if self.outreached else 0.0


@dataclass(slots=True)
class Stats:
    """One group's numbers (a campaign, or the sum of several)."""

    campaign_count: int = 0
    total: int = 0
    scored: int = 0
    approved: int = 0
    outreached: int = 0
    responded: int = 0
    customer_ids: set[int] = field(default_factory=set)
    recent_customer_ids: set[int] = field(default_factory=set)
    calls_made: int = 0
    calls_connected: int = 0
    meetings_booked: int = 0
    signals_captured: int = 0
    goals_achieved: int = 0
    goals_lost: int = 0
    channels: dict[str, ChannelCounts] = field(default_factory=dict)
    recent_spend: dict[str, Decimal] = field(default_factory=dict)
    """Expenses incurred in the trailing 30 days, per currency."""

    @property
    def customers(self) -> int:
        """Distinct accounts, also when summed over campaigns."""
        return len(self.customer_ids)

    @property
    def customers_last_30_days(self) -> int:
        return len(self.recent_customer_ids)

    @property
    def expenses_last_30_days(self) -> list[Money]:
        """One total per currency, by currency code."""
        return [Money(amount.quantize(CENT), code) for code, amount in sorted(self.recent_spend.items())]

    @property
    def cost_per_customer_last_30_days(self) -> Ratio:
        return ratio("customer", self.expenses_last_30_days, self.customers_last_30_days,
                     no_expenses=NO_RECENT_EXPENSES, none_reached=NO_RECENT_CUSTOMERS)

    @property
    def response_rate(self) -> float:
        return round(self.responded / self.outreached, 4) if self.outreached else 0.0

    @property
    def connection_rate(self) -> float:
        return round(self.calls_connected / self.calls_made, 4) if self.calls_made else 0.0

    def add(self, other: Stats) -> None:
        for name in ("campaign_count", "total", "scored", "approved", "outreached", "responded", "calls_made",
                     "calls_connected", "meetings_booked", "signals_captured", "goals_achieved", "goals_lost"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.customer_ids |= other.customer_ids
        self.recent_customer_ids |= other.recent_customer_ids
        for code, amount in other.recent_spend.items():
            self.recent_spend[code] = self.recent_spend.get(code, Decimal(0)) + amount
        for channel, counts in other.channels.items():
            mine = self.channels.setdefault(channel, ChannelCounts())
            mine.outreached += counts.outreached
            mine.responded += counts.responded


@dataclass(slots=True)
class ProjectStats:
    totals: Stats
    campaigns: list[tuple[models.Campaign, Stats]]
    products: list[tuple[models.Product, Stats]]
    markets: list[tuple[models.Market, Stats]]


def _p(conn: Any, n: int) -> str:
    return f"${n}" if conn.capabilities.dialect == "postgres" else "?"


async def _message_counts(project_id: int
                          ) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[int, int]]:
    conn = connections.get("default")
    sent, outbound, inbound = MessageStatus.SENT.value, Direction.OUTBOUND.value, Direction.INBOUND.value
    _, accounts = await conn.execute_query(
        "SELECT ca.campaign_id AS campaign_id, m.channel AS channel, "
        "COUNT(DISTINCT m.campaign_account_id) AS outreached, COUNT(DISTINCT r.campaign_account_id) AS responded "
        "FROM message m JOIN campaign_account ca ON ca.id = m.campaign_account_id "
        "LEFT JOIN (SELECT DISTINCT i.campaign_account_id AS campaign_account_id FROM message i "
        f"WHERE i.project_id = {_p(conn, 1)} AND i.status = {_p(conn, 2)} AND i.direction = {_p(conn, 3)}) r "
        "ON r.campaign_account_id = m.campaign_account_id "
        f"WHERE m.project_id = {_p(conn, 4)} AND m.status = {_p(conn, 5)} AND m.direction = {_p(conn, 6)} "
        "GROUP BY ca.campaign_id, m.channel", [project_id, sent, inbound, project_id, sent, outbound])
    _, outcomes = await conn.execute_query(
        "SELECT ca.campaign_id AS campaign_id, m.channel AS channel, m.direction AS direction, "
        "m.outcome AS outcome, COUNT(*) AS n, SUM(COALESCE(s.n, 0)) AS signals "
        "FROM message m JOIN campaign_account ca ON ca.id = m.campaign_account_id "
        "LEFT JOIN (SELECT message_id, COUNT(*) AS n FROM signal "
        f"WHERE project_id = {_p(conn, 1)} AND status = {_p(conn, 2)} GROUP BY message_id) s ON s.message_id = m.id "
        f"WHERE m.project_id = {_p(conn, 3)} AND m.status = {_p(conn, 4)} "
        "GROUP BY ca.campaign_id, m.channel, m.direction, m.outcome",
        [project_id, SignalStatus.CONFIRMED.value, project_id, sent])
    _, meetings = await conn.execute_query(
        "SELECT ca.campaign_id AS campaign_id, COUNT(DISTINCT m.campaign_account_id) AS n "
        "FROM message m JOIN campaign_account ca ON ca.id = m.campaign_account_id "
        f"WHERE m.project_id = {_p(conn, 1)} AND m.status = {_p(conn, 2)} AND m.outcome = {_p(conn, 3)} "
        "GROUP BY ca.campaign_id", [project_id, sent, CallOutcome.MEETING_BOOKED.value])
    return ([dict(r) for r in accounts], [dict(r) for r in outcomes],
            {int(r["campaign_id"]): int(r["n"]) for r in meetings})


async def _goal_outcomes(project_id: int) -> dict[tuple[int, str], int]:
    """Rows per (campaign, goal outcome) whose outcome is decided (achieved or lost)."""
    conn = connections.get("default")
    _, rows = await conn.execute_query(
        "SELECT ca.campaign_id AS campaign_id, ca.goal_outcome AS outcome, COUNT(*) AS n FROM campaign_account ca "
        f"JOIN campaign c ON c.id = ca.campaign_id WHERE c.project_id = {_p(conn, 1)} "
        f"AND ca.goal_outcome IN ({_p(conn, 2)}, {_p(conn, 3)}) GROUP BY ca.campaign_id, ca.goal_outcome",
        [project_id, GoalOutcome.ACHIEVED.value, GoalOutcome.LOST.value])
    return {(int(r["campaign_id"]), str(r["outcome"])): int(r["n"]) for r in rows}


async def _customers(project_id: int, now: datetime) -> tuple[dict[int, set[int]], dict[int, set[int]]]:
    """Per campaign: the accounts that became customers after joining it, and those that did in the window."""
    rows = await models.CampaignAccount.filter(
        campaign__project_id=project_id, account__status=AccountStatus.CUSTOMER,
    ).values("campaign_id", "account_id", "created_at")
    if not rows:
        return {}, {}
    won: dict[int, list[datetime]] = defaultdict(list)
    for change in await models.AccountStatusChange.filter(
        account__project_id=project_id, to_status=AccountStatus.CUSTOMER,
    ).values("account_id", "created_at"):
        won[change["account_id"]].append(change["created_at"])
    since = now - timedelta(days=WINDOW_DAYS)
    ever: dict[int, set[int]] = defaultdict(set)
    recent: dict[int, set[int]] = defaultdict(set)
    for row in rows:
        after_joining = [t for t in won.get(row["account_id"], []) if t >= row["created_at"]]
        if after_joining:
            ever[row["campaign_id"]].add(row["account_id"])
            if max(after_joining) >= since:
                recent[row["campaign_id"]].add(row["account_id"])
    return ever, recent


def spend_window(today: date) -> tuple[date, date]:
    """The first and last day (both included) of the trailing 30 days ending ``today``."""
    return today - timedelta(days=WINDOW_DAYS - 1), today


async def _recent_spend(project_id: int, now: datetime) -> dict[int, dict[str, Decimal]]:
    """Per campaign and currency: the expenses incurred in the trailing 30 days (one grouped query)."""
    conn = connections.get("default")
    first, last = spend_window(now.date())
    spend: dict[int, dict[str, Decimal]] = defaultdict(dict)
    for row in await (models.Expense.filter(project_id=project_id, incurred_on__gte=first, incurred_on__lte=last)
                      .annotate(total=sql.decimal_sum(conn, "amount", 2)).group_by("campaign_id", "currency")
                      .values("campaign_id", "currency", "total")):
        spend[row["campaign_id"]][row["currency"]] = sql.decimal_value(conn, row["total"], 2)
    return spend


async def project_stats(project_id: int, *, include_archived: bool = True) -> ProjectStats:
    """Every number of the stats view in ten queries, whatever the number of campaigns."""
    now = datetime.now(UTC)
    qs = models.Campaign.filter(project_id=project_id)
    if not include_archived:
        qs = qs.filter(archived_at__isnull=True)
    campaigns = await qs.order_by("id")
    accounts, outcomes, meetings = await _message_counts(project_id)
    ever, recent = await _customers(project_id, now)
    spend = await _recent_spend(project_id, now)
    outcomes_by_campaign = await _goal_outcomes(project_id)
    by_campaign: dict[int, Stats] = {}
    for c in campaigns:
        by_campaign[c.id] = Stats(
            campaign_count=1, total=c.total_accounts, scored=c.scored_accounts, approved=c.approved_accounts,
            outreached=c.outreached_accounts, responded=c.responded_accounts,
            customer_ids=set(ever.get(c.id, ())), recent_customer_ids=set(recent.get(c.id, ())),
            recent_spend=dict(spend.get(c.id, {})),
            meetings_booked=meetings.get(c.id, 0),
            goals_achieved=outcomes_by_campaign.get((c.id, GoalOutcome.ACHIEVED.value), 0),
            goals_lost=outcomes_by_campaign.get((c.id, GoalOutcome.LOST.value), 0),
        )
    for row in accounts:
        stats = by_campaign.get(row["campaign_id"])
        if stats is None:
            continue
        stats.channels[row["channel"]] = ChannelCounts(int(row["outreached"]), int(row["responded"]))
    connected = {CallOutcome.CONNECTED.value, CallOutcome.MEETING_BOOKED.value}
    for row in outcomes:
        stats = by_campaign.get(row["campaign_id"])
        if stats is None:
            continue
        n = int(row["n"])
        stats.signals_captured += int(row["signals"] or 0)
        if row["channel"] == Channel.PHONE_CALL.value and row["direction"] == Direction.OUTBOUND.value:
            stats.calls_made += n
            if row["outcome"] in connected:
                stats.calls_connected += n
    products = await models.Product.filter(project_id=project_id).order_by("id")
    markets = await models.Market.filter(project_id=project_id).order_by("name", "id")
    per_product: dict[int, Stats] = {p.id: Stats() for p in products}
    per_market: dict[int, Stats] = {m.id: Stats() for m in markets}
    totals = Stats()
    for c in campaigns:
        stats = by_campaign[c.id]
        totals.add(stats)
        if c.product_id in per_product:
            per_product[c.product_id].add(stats)
        if c.market_id is not None and c.market_id in per_market:
            per_market[c.market_id].add(stats)
    return ProjectStats(
        totals=totals,
        campaigns=[(c, by_campaign[c.id]) for c in campaigns],
        products=[(p, per_product[p.id]) for p in products],
        markets=[(m, per_market[m.id]) for m in markets],
    )
