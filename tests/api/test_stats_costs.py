"""Project.stats: the cost per customer of the trailing 30 days (expenses incurred in the window ÷ customers won in
it, per currency, a ratio only for one currency, else the reason) by campaign, product, market and for the project;
nothing of another project in it, and its cost in SQL does not grow with the number of campaigns."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from outboundql import models
from outboundql.enums import AccountStatus, ExpenseKind, StatusSource
from tests.api.test_log_message import make_account, make_campaign
from tests.api.test_stats import _seed
from tests.helpers import Person, data_of, warm_up

STATS = """
fragment Cost on Stats {
  customersLast30Days
  expensesLast30Days { amount currency }
  costPerCustomerLast30Days { outcome accounts value { amount currency } reason }
}
query($slug: String!) {
  project(slug: $slug) {
    stats {
      totals { ...Cost }
      byCampaign { campaign { name } stats { ...Cost } }
      byProduct { product { name } stats { ...Cost } }
      byMarket { market { name } stats { ...Cost } }
    }
  }
}
"""

MIXED = ("Expenses are in 2 currencies (EUR, USD) and are never converted, so there is no single cost per account; "
         "see the totals.")
NO_CUSTOMER = "No account became a customer in the trailing 30 days, so there is nothing to divide by."
NO_EXPENSE = "No expenses were incurred in the trailing 30 days."


def _days_ago(days: int) -> datetime:
    return datetime.now(UTC) - timedelta(days=days)


async def _win(account: models.Account, days_ago: int = 0) -> None:
    """``account`` becomes a customer ``days_ago`` days ago (after joining its campaigns)."""
    await models.Account.filter(id=account.id).update(status=AccountStatus.CUSTOMER)
    change = await models.AccountStatusChange.create(account_id=account.id, to_status=AccountStatus.CUSTOMER,
                                                     source=StatusSource.MANUAL)
    await models.AccountStatusChange.filter(id=change.id).update(created_at=_days_ago(days_ago))


async def _spend(campaign: models.Campaign, amount: str, currency: str, days_ago: int) -> None:
    await models.Expense.create(project_id=campaign.project_id, campaign=campaign, kind=ExpenseKind.GOOGLE_ADS,
                                amount=Decimal(amount), currency=currency,
                                incurred_on=_days_ago(days_ago).date())


def _cost(accounts: int, value: str | None = None, currency: str | None = None, *, reason: str | None = None
          ) -> dict[str, Any]:
    """A CostRatio of outcome ``customer``: ``value`` in ``currency``, or no value and the ``reason``."""
    return {"outcome": "customer", "accounts": accounts, "reason": reason,
            "value": None if value is None else {"amount": value, "currency": currency}}


async def _stats(gql: Any, owner: Person, project: models.Project) -> dict[str, Any]:
    return data_of(await gql(STATS, {"slug": project.slug}, as_=owner))["project"]["stats"]  # type: ignore[no-any-return]


async def test_cost_per_customer_of_the_trailing_30_days(
    gql, owner: Person, project: models.Project, make_user: Any, make_project: Any
) -> None:
    a, b, c, d, f = [await make_account(owner, project, name) for name in ("Alpha", "Beta", "Gamma", "Delta", "Fox")]
    email = await make_campaign(owner, project, "Email push", accounts=[a, b, c])
    calls = await make_campaign(owner, project, "Call blitz", accounts=[a, d])
    old = await make_campaign(owner, project, "Old push", accounts=[f])
    gadget = await models.Product.create(project=project, name="Gadget", slug="gadget")
    solo = await models.Campaign.create(project=project, product=gadget, name="Solo", slug="solo", goal_key="sales")
    e = await make_account(owner, project, "Echo")
    await models.CampaignAccount.create(campaign=solo, account=e)
    market = await models.Market.create(project=project, name="Iberia", slug="iberia")
    await models.Campaign.filter(id=email.id).update(market_id=market.id)

    # a (in two campaigns), b and f win now; d won 40 days ago (outside the window); e is no customer
    await models.CampaignAccount.filter(account_id=d.id).update(created_at=_days_ago(50))
    for account in (a, b, f):
        await _win(account)
    await _win(d, days_ago=40)

    # the window is today and the 29 days before, by the day the expense was incurred
    await _spend(email, "300.00", "EUR", days_ago=29)
    await _spend(email, "1000.00", "EUR", days_ago=30)  # one day too old
    await _spend(email, "500.00", "EUR", days_ago=31)
    await _spend(email, "77.00", "EUR", days_ago=-1)  # planned for tomorrow: not incurred yet
    await _spend(calls, "60.00", "EUR", days_ago=0)
    await _spend(calls, "40.00", "EUR", days_ago=12)
    await _spend(old, "200.00", "EUR", days_ago=60)  # its customer is recent, its spend is not
    await _spend(solo, "50.00", "USD", days_ago=3)

    # another project's customers and expenses, in the same currency, change nothing here
    stranger = await make_user("stranger@example.com")
    theirs = await make_project(stranger, "Theirs")
    their_account = await make_account(stranger, theirs, "Theirs Co")
    their_campaign = await make_campaign(stranger, theirs, "Their push", accounts=[their_account])
    await _win(their_account)
    await _spend(their_campaign, "9999.00", "EUR", days_ago=1)

    stats = await _stats(gql, owner, project)
    by_campaign = {s["campaign"]["name"]: s["stats"] for s in stats["byCampaign"]}
    assert by_campaign["Email push"] == {
        "customersLast30Days": 2, "expensesLast30Days": [{"amount": "300.00", "currency": "EUR"}],
        "costPerCustomerLast30Days": _cost(2, "150.00", "EUR")}
    assert by_campaign["Call blitz"] == {  # d's win is 40 days old: a is its only customer of the window
        "customersLast30Days": 1, "expensesLast30Days": [{"amount": "100.00", "currency": "EUR"}],
        "costPerCustomerLast30Days": _cost(1, "100.00", "EUR")}
    assert by_campaign["Old push"] == {
        "customersLast30Days": 1, "expensesLast30Days": [],
        "costPerCustomerLast30Days": _cost(1, reason=NO_EXPENSE)}
    assert by_campaign["Solo"] == {
        "customersLast30Days": 0, "expensesLast30Days": [{"amount": "50.00", "currency": "USD"}],
        "costPerCustomerLast30Days": _cost(0, reason=NO_CUSTOMER)}

    by_product = {s["product"]["name"]: s["stats"] for s in stats["byProduct"]}
    # Widget: 400.00 EUR over a, b and f (a counts once though two campaigns won it), to the cent
    assert by_product["Widget"] == {
        "customersLast30Days": 3, "expensesLast30Days": [{"amount": "400.00", "currency": "EUR"}],
        "costPerCustomerLast30Days": _cost(3, "133.33", "EUR")}
    assert by_product["Gadget"] == by_campaign["Solo"]
    assert stats["byMarket"] == [{"market": {"name": "Iberia"}, "stats": by_campaign["Email push"]}]

    # the project spent in two currencies: totals per currency, no ratio, and why
    assert stats["totals"] == {
        "customersLast30Days": 3,
        "expensesLast30Days": [{"amount": "400.00", "currency": "EUR"}, {"amount": "50.00", "currency": "USD"}],
        "costPerCustomerLast30Days": _cost(3, reason=MIXED)}

    theirs_stats = await _stats(gql, stranger, theirs)
    assert theirs_stats["totals"] == {
        "customersLast30Days": 1, "expensesLast30Days": [{"amount": "9999.00", "currency": "EUR"}],
        "costPerCustomerLast30Days": _cost(1, "9999.00", "EUR")}
    assert data_of(await gql(STATS, {"slug": theirs.slug}, as_=owner)) == {"project": None}


async def test_one_currency_for_the_whole_project_gives_the_ratio(gql, owner: Person, project: models.Project
                                                                 ) -> None:
    a, b = [await make_account(owner, project, name) for name in ("Alpha", "Beta")]
    first = await make_campaign(owner, project, "First", accounts=[a])
    second = await make_campaign(owner, project, "Second", accounts=[b])
    await models.CampaignAccount.filter(account_id=b.id).update(created_at=_days_ago(35))  # joined before it won
    await _win(a)
    await _win(b, days_ago=29)
    await _spend(first, "0.10", "GBP", days_ago=1)
    await _spend(first, "0.20", "GBP", days_ago=2)  # floats would add these up to 0.30000000000000004
    await _spend(second, "999999999999.99", "GBP", days_ago=0)
    totals = (await _stats(gql, owner, project))["totals"]
    assert totals["expensesLast30Days"] == [{"amount": "1000000000000.29", "currency": "GBP"}]
    assert totals["costPerCustomerLast30Days"] == _cost(2, "500000000000.15", "GBP")  # half a penny rounds up


async def test_no_expense_and_no_customer_explain_the_missing_ratio(gql, owner: Person, project: models.Project
                                                                   ) -> None:
    await make_campaign(owner, project, "Quiet", accounts=[await make_account(owner, project, "Alpha")])
    totals = (await _stats(gql, owner, project))["totals"]
    assert totals == {"customersLast30Days": 0, "expensesLast30Days": [],
                      "costPerCustomerLast30Days": _cost(0, reason=NO_EXPENSE)}


async def test_the_cost_per_customer_keeps_the_query_count_fixed(
    gql, owner: Person, project: models.Project, make_project: Any, count_queries: Any
) -> None:
    small = await make_project(owner, "Small")
    await _seed(owner, small, 5)
    await _seed(owner, project, 50)
    for campaign in await models.Campaign.filter(project_id__in=[small.id, project.id]):
        await _spend(campaign, "10.00", "EUR", days_ago=1)
        await _spend(campaign, "1.00", "USD" if campaign.id % 2 else "EUR", days_ago=40)  # too old: ignored

    await warm_up(gql, owner)
    with count_queries() as few:
        small_stats = await _stats(gql, owner, small)
    with count_queries() as many:
        big_stats = await _stats(gql, owner, project)

    assert [c["stats"]["costPerCustomerLast30Days"]["value"] for c in big_stats["byCampaign"]] == [
        {"amount": "10.00", "currency": "EUR"}] * 50
    # one customer account in all 50 campaigns: one customer of the project, who cost all 50 campaigns' spend
    assert big_stats["totals"]["costPerCustomerLast30Days"] == _cost(1, "500.00", "EUR")
    assert small_stats["totals"]["costPerCustomerLast30Days"] == _cost(1, "50.00", "EUR")
    assert many.selects == few.selects
    assert many.selects <= 11  # the project, then ten aggregate queries (services/stats.py)
