"""Expenses (add, update, delete, validation, default currency) and Campaign.costs (per-currency totals,
cost per outreached / responded / customer only for one currency, API usage beside it)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from outboundql import models
from outboundql.enums import AccountStatus, OutreachStatus, StatusSource, UsageOperation
from tests.api._authz import snapshot
from tests.api.test_log_message import make_account
from tests.helpers import Person, data_of, global_id

ADD = """
mutation($input: AddExpenseInput!) {
  addExpense(input: $input) {
    expense { id kind amount currency incurredOn vendor description externalRef }
    errors { code field message }
  }
}
"""

UPDATE = """
mutation($input: UpdateExpenseInput!) {
  updateExpense(input: $input) { expense { id kind amount currency vendor } errors { code field message } }
}
"""

DELETE = """
mutation($input: DeleteExpenseInput!) {
  deleteExpense(input: $input) { deletedExpenseId errors { code field message } }
}
"""

COSTS = """
query($slug: String!) {
  project(slug: $slug) { campaign(slug: "spring-push") {
    expenses { kind amount currency }
    costs {
      totals { amount currency }
      currency customerAccounts
      costPerOutreached { outcome accounts value { amount currency } reason }
      costPerResponded { outcome accounts value { amount currency } reason }
      costPerCustomer { outcome accounts value { amount currency } reason }
      apiUsage { costUsd calls byModel { provider model calls inputUnits outputUnits costUsd } }
    }
  } }
}
"""


@pytest.fixture
def campaign_name() -> str:
    return "Spring push"  # COSTS reads the campaign by its slug, spring-push


async def add(gql: Any, owner: Person, campaign: models.Campaign, **fields: Any) -> dict[str, Any]:
    variables = {"input": {"campaignId": global_id("Campaign", campaign.id), "kind": "GOOGLE_ADS",
                           "amount": "100.00", **fields}}
    return data_of(await gql(ADD, variables, as_=owner))["addExpense"]


async def test_add_update_delete(gql, owner, campaign) -> None:
    incurred = (datetime.now(UTC).date() - timedelta(days=30)).isoformat()
    created = await add(gql, owner, campaign, amount="1250.5", currency="eur", incurredOn=incurred,
                        vendor=" Google ", externalRef="INV-7")
    assert created["errors"] == []
    expense = created["expense"]
    assert expense["amount"] == "1250.50" and expense["currency"] == "EUR" and expense["kind"] == "GOOGLE_ADS"
    assert expense["incurredOn"] == incurred and expense["vendor"] == "Google"
    assert expense["externalRef"] == "INV-7"

    defaulted = await add(gql, owner, campaign, kind="AGENCY", amount="10")
    assert defaulted["expense"]["currency"] == "EUR"  # the campaign's expenses already use EUR
    assert defaulted["expense"]["incurredOn"] == datetime.now(UTC).date().isoformat()

    updated = data_of(await gql(UPDATE, {"input": {"id": expense["id"], "amount": "99.99", "kind": "LABOR",
                                                   "vendor": None}}, as_=owner))["updateExpense"]
    assert updated["errors"] == []
    assert updated["expense"] == {"id": expense["id"], "kind": "LABOR", "amount": "99.99", "currency": "EUR",
                                  "vendor": ""}

    deleted = data_of(await gql(DELETE, {"input": {"id": expense["id"]}}, as_=owner))["deleteExpense"]
    assert deleted == {"deletedExpenseId": expense["id"], "errors": []}
    assert await models.Expense.filter(campaign_id=campaign.id).count() == 1
    actions = await models.AuditEvent.filter(object_type="Expense").order_by("id").values_list("action", flat=True)
    assert actions == ["expense.add", "expense.add", "expense.update", "expense.delete"]


@pytest.mark.parametrize(("fields", "expected"), [
    ({"amount": "0", "currency": "EUR"}, [("INVALID", "input.amount")]),
    ({"amount": "-5", "currency": "EUR"}, [("INVALID", "input.amount")]),
    ({"amount": "1.234", "currency": "EUR"}, [("INVALID", "input.amount")]),
    ({"amount": "1e15", "currency": "EUR"}, [("INVALID", "input.amount")]),
    ({"currency": "EURO"}, [("INVALID", "input.currency")]),
    ({"currency": "XYZ"}, [("INVALID", "input.currency")]),
    ({}, [("INVALID", "input.currency")]),  # nothing to default from yet
    ({"currency": "USD", "incurredOn": "1999-12-31"}, [("INVALID", "input.incurredOn")]),
    ({"currency": "USD", "incurredOn": (datetime.now(UTC).date() + timedelta(days=400)).isoformat()},
     [("INVALID", "input.incurredOn")]),
    ({"amount": "0", "currency": "??"}, [("INVALID", "input.amount"), ("INVALID", "input.currency")]),
    # ISO 4217 codes that are no money in use: obsolete (Deutsche Mark, peseta), "no currency", testing, gold
    ({"currency": "DEM"}, [("INVALID", "input.currency")]),
    ({"currency": "ESP"}, [("INVALID", "input.currency")]),
    ({"currency": "XXX"}, [("INVALID", "input.currency")]),
    ({"currency": "XTS"}, [("INVALID", "input.currency")]),
    ({"currency": "XAU"}, [("INVALID", "input.currency")]),
    # more decimals than the currency has
    ({"amount": "10.5", "currency": "JPY"}, [("INVALID", "input.amount")]),
    # three-decimal currencies are refused until amounts keep three decimals
    ({"amount": "10.000", "currency": "KWD"}, [("INVALID", "input.currency")]),
])
async def test_invalid_expenses_are_payload_errors_and_write_nothing(gql, owner, project, campaign, fields,
                                                                     expected) -> None:
    before = await snapshot(project.id)
    result = await add(gql, owner, campaign, **fields)
    assert result["expense"] is None
    assert [(e["code"], e["field"]) for e in result["errors"]] == expected
    assert await snapshot(project.id) == before


@pytest.mark.parametrize(("currency", "amount", "stored"), [
    ("EUR", "12.34", "12.34"), ("USD", "0.99", "0.99"), ("jpy", "1500", "1500.00"), ("JPY", "1500.00", "1500.00"),
    ("CHF", "5.05", "5.05"),
])
async def test_currencies_in_use_are_accepted(gql, owner, campaign, currency, amount, stored) -> None:
    result = await add(gql, owner, campaign, amount=amount, currency=currency)
    assert result["errors"] == []
    assert (result["expense"]["amount"], result["expense"]["currency"]) == (stored, currency.upper())


async def test_errors_say_why_a_currency_or_amount_is_refused(gql, owner, campaign) -> None:
    obsolete = (await add(gql, owner, campaign, currency="DEM"))["errors"][0]["message"]
    assert "not a currency in use" in obsolete
    yen = (await add(gql, owner, campaign, amount="10.5", currency="JPY"))["errors"][0]["message"]
    assert yen == "JPY has no decimal places: give a whole amount."
    dinar = (await add(gql, owner, campaign, amount="10", currency="KWD"))["errors"][0]["message"]
    assert "three decimal places" in dinar and "not supported yet" in dinar


async def test_changing_the_currency_checks_the_stored_amount(gql, owner, project, campaign) -> None:
    expense = (await add(gql, owner, campaign, amount="10.50", currency="EUR"))["expense"]
    before = await snapshot(project.id)
    result = data_of(await gql(UPDATE, {"input": {"id": expense["id"], "currency": "JPY"}}, as_=owner))
    assert [(e["code"], e["field"]) for e in result["updateExpense"]["errors"]] == [("INVALID", "input.amount")]
    assert await snapshot(project.id) == before
    result = data_of(await gql(UPDATE, {"input": {"id": expense["id"], "currency": "JPY", "amount": "1500"}},
                               as_=owner))
    assert result["updateExpense"]["errors"] == []
    assert result["updateExpense"]["expense"]["currency"] == "JPY"


async def test_update_validates_and_cannot_clear_required_fields(gql, owner, project, campaign) -> None:
    expense = (await add(gql, owner, campaign, currency="USD"))["expense"]
    before = await snapshot(project.id)
    result = data_of(await gql(UPDATE, {"input": {"id": expense["id"], "amount": None, "currency": "nope"}},
                               as_=owner))["updateExpense"]
    assert [(e["code"], e["field"]) for e in result["errors"]] == [("INVALID", "input.amount"),
                                                                   ("INVALID", "input.currency")]
    assert await snapshot(project.id) == before


async def test_kind_outside_the_spec_is_refused_by_the_schema(gql, owner, campaign) -> None:
    variables = {"input": {"campaignId": global_id("Campaign", campaign.id), "kind": "BRIBES", "amount": "1",
                           "currency": "EUR"}}
    result = await gql(ADD, variables, as_=owner)
    assert result.get("data") is None and "BRIBES" in result["errors"][0]["message"]


async def _seed_outcomes(owner: Person, project: models.Project, campaign: models.Campaign) -> None:
    """4 accounts: 4 outreached, 2 responded, 1 became a customer after joining (1 was one before)."""
    accounts = [await make_account(owner, project, f"Co {i}") for i in range(4)]
    before = datetime.now(UTC) - timedelta(days=1)
    await models.Account.filter(id=accounts[3].id).update(status=AccountStatus.CUSTOMER)
    await models.AccountStatusChange.create(account_id=accounts[3].id, from_status=AccountStatus.NEW,
                                            to_status=AccountStatus.CUSTOMER, source=StatusSource.MANUAL)
    await models.AccountStatusChange.filter(account_id=accounts[3].id).update(created_at=before)
    from outboundql.goals.testing import registry_with
    from outboundql.services import campaign_accounts as ca_service
    from tests.helpers import access_for

    await ca_service.add_accounts(await access_for(owner), registry_with(),
                                  ca_service.AddAccountsToCampaign(campaign.id, [a.id for a in accounts],
                                                                   overrides=["include_customers"]))
    rows = {r.account_id: r for r in await models.CampaignAccount.filter(campaign_id=campaign.id)}
    for i, account in enumerate(accounts):
        status = OutreachStatus.RESPONDED if i < 2 else OutreachStatus.SENT
        await models.CampaignAccount.filter(id=rows[account.id].id).update(outreach_status=status)
    await models.Campaign.filter(id=campaign.id).update(outreached_accounts=4, responded_accounts=2)
    await models.Account.filter(id=accounts[0].id).update(status=AccountStatus.CUSTOMER)
    await models.AccountStatusChange.create(account_id=accounts[0].id, from_status=AccountStatus.ENGAGED,
                                            to_status=AccountStatus.CUSTOMER, source=StatusSource.MANUAL)


async def test_costs_in_one_currency_give_every_ratio(gql, owner, project, campaign) -> None:
    await _seed_outcomes(owner, project, campaign)
    await add(gql, owner, campaign, amount="300.00", currency="EUR")
    await add(gql, owner, campaign, amount="100.00", kind="SOFTWARE")
    for model, cost in (("gpt-x", "0.010000"), ("gpt-x", "0.005000"), ("small", "0.001000")):
        await models.ApiUsage.create(project=project, campaign=campaign, provider="openai", model=model,
                                     operation=UsageOperation.DRAFT, input_units=100, output_units=50,
                                     cost_usd=Decimal(cost))
    costs = data_of(await gql(COSTS, {"slug": project.slug}, as_=owner))["project"]["campaign"]["costs"]
    assert costs["totals"] == [{"amount": "400.00", "currency": "EUR"}]
    assert costs["currency"] == "EUR"
    assert costs["costPerOutreached"] == {"outcome": "outreached", "accounts": 4, "reason": None,
                                         "value": {"amount": "100.00", "currency": "EUR"}}
    assert costs["costPerResponded"]["value"] == {"amount": "200.00", "currency": "EUR"}
    assert costs["customerAccounts"] == 1  # the account that was a customer before joining is not attributed
    assert costs["costPerCustomer"]["value"] == {"amount": "400.00", "currency": "EUR"}
    usage = costs["apiUsage"]
    assert usage["calls"] == 3 and Decimal(usage["costUsd"]) == Decimal("0.016")
    assert [(m["model"], m["calls"], Decimal(m["costUsd"]), m["inputUnits"]) for m in usage["byModel"]] == [
        ("gpt-x", 2, Decimal("0.015"), 200), ("small", 1, Decimal("0.001"), 100)]


async def test_totals_are_exact_decimals_where_floats_would_round(gql, owner, project, campaign) -> None:
    """Amounts whose float sum is off by a cent (and usage costs off in the last place): totals stay exact."""
    amounts = [Decimal("999999999999.99")] * 18 + [Decimal("0.01")] * 3 + [Decimal("0.10"), Decimal("0.20")] * 40
    today = datetime.now(UTC).date()
    await models.Expense.bulk_create([
        models.Expense(project=project, campaign=campaign, kind="other", amount=a, currency="EUR", incurred_on=today)
        for a in amounts
    ])
    costs = [Decimal("999999.999999")] * 40 + [Decimal("0.000001")] * 7
    await models.ApiUsage.bulk_create([
        models.ApiUsage(project=project, campaign=campaign, provider="openai", model="gpt-x",
                        operation=UsageOperation.DRAFT, input_units=1, output_units=1, cost_usd=c)
        for c in costs
    ])
    result = data_of(await gql(COSTS, {"slug": project.slug}, as_=owner))["project"]["campaign"]["costs"]
    assert result["totals"] == [{"amount": str(sum(amounts)), "currency": "EUR"}]
    assert str(sum(amounts)) == "18000000000011.85"
    assert Decimal(result["apiUsage"]["costUsd"]) == sum(costs) == Decimal("39999999.999967")
    assert Decimal(result["apiUsage"]["byModel"][0]["costUsd"]) == sum(costs)


async def test_mixed_currencies_give_totals_and_no_ratio_with_a_reason(gql, owner, project, campaign) -> None:
    await _seed_outcomes(owner, project, campaign)
    await add(gql, owner, campaign, amount="300.00", currency="EUR")
    await add(gql, owner, campaign, amount="50.00", currency="USD")
    costs = data_of(await gql(COSTS, {"slug": project.slug}, as_=owner))["project"]["campaign"]["costs"]
    assert costs["totals"] == [{"amount": "300.00", "currency": "EUR"}, {"amount": "50.00", "currency": "USD"}]
    assert costs["currency"] is None
    for key in ("costPerOutreached", "costPerResponded", "costPerCustomer"):
        assert costs[key]["value"] is None
        assert "2 currencies (EUR, USD)" in costs[key]["reason"]


async def test_no_expenses_or_no_accounts_explain_the_missing_ratio(gql, owner, project, campaign) -> None:
    costs = data_of(await gql(COSTS, {"slug": project.slug}, as_=owner))["project"]["campaign"]["costs"]
    assert costs["totals"] == [] and costs["apiUsage"] == {"costUsd": "0", "calls": 0, "byModel": []}
    assert "No expenses" in costs["costPerOutreached"]["reason"]
    await add(gql, owner, campaign, amount="10.00", currency="GBP")
    costs = data_of(await gql(COSTS, {"slug": project.slug}, as_=owner))["project"]["campaign"]["costs"]
    reasons = {key: costs[key]["reason"] for key in ("costPerOutreached", "costPerResponded", "costPerCustomer")}
    assert reasons == {
        "costPerOutreached": "No account has been reached yet, so there is nothing to divide by.",
        "costPerResponded": "No account has replied yet, so there is nothing to divide by.",
        "costPerCustomer": "No account has become a customer yet, so there is nothing to divide by.",
    }
    assert costs["costPerResponded"]["accounts"] == 0 and costs["costPerResponded"]["value"] is None


async def test_expenses_of_another_project_are_invisible(gql, owner, campaign, make_user: Any) -> None:
    expense_id = (await add(gql, owner, campaign, currency="EUR"))["expense"]["id"]
    stranger = await make_user("stranger@example.com")
    node = "query($id: ID!) { node(id: $id) { __typename ... on Expense { amount } } }"
    assert data_of(await gql(node, {"id": expense_id}, as_=owner)) == {
        "node": {"__typename": "Expense", "amount": "100.00"}}
    assert data_of(await gql(node, {"id": expense_id}, as_=stranger)) == {"node": None}
    result = data_of(await gql(UPDATE, {"input": {"id": expense_id, "amount": "1.00"}}, as_=stranger))
    assert result["updateExpense"]["errors"] == [{"code": "NOT_FOUND", "field": "input.id",
                                                  "message": "Expense not found."}]
    assert (await models.Expense.get(campaign_id=campaign.id)).amount == Decimal("100.00")
