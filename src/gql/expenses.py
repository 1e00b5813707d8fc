"""Money: campaign expenses, what outcomes cost (per currency, never converted), and paid API usage beside it."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import strawberry
from strawberry import relay

from outboundql import models
from outboundql.gql.base import ProjectNode, maybe, mutation, pk_of
from outboundql.gql.context import Info
from outboundql.gql.enums import ExpenseKind
from outboundql.gql.errors import UserError
from outboundql.gql.idempotency import idempotency_key, replayed
from outboundql.services import expenses as expenses_service


@strawberry.type(description="Money spent on a campaign: an exact decimal amount in one ISO 4217 currency.")
class Expense(ProjectNode):
    id: relay.NodeID[int]
    kind: ExpenseKind
    amount: Decimal = strawberry.field(description="Greater than 0, two decimals.")
    currency: str = strawberry.field(description="ISO 4217 code, e.g. EUR.")
    incurred_on: date
    vendor: str
    description: str
    external_ref: str | None
    created_at: datetime
    updated_at: datetime
    row: strawberry.Private[models.Expense]
    node_model = models.Expense


@strawberry.type(description="An amount in one currency.")
class Money:
    amount: Decimal
    currency: str


@strawberry.type(description="Spend per account that reached an outcome. `value` is null when there is no "
                 "honest single number, and `reason` says why (no expenses, several currencies, nobody there yet).")
class CostRatio:
    outcome: str = strawberry.field(description="`outreached`, `responded` or `customer`.")
    accounts: int = strawberry.field(description="Accounts that reached the outcome (the divisor).")
    value: Money | None
    reason: str | None

    @classmethod
    def from_ratio(cls, r: expenses_service.Ratio) -> CostRatio:
        return cls(outcome=r.outcome, accounts=r.accounts, reason=r.reason,
                   value=Money(amount=r.value.amount, currency=r.value.currency) if r.value else None)


@strawberry.type(description="Paid API calls of one provider and model.")
class ModelUsage:
    provider: str
    model: str
    calls: int
    input_units: int = strawberry.field(description="Input tokens (or units) summed.")
    output_units: int
    cost_usd: Decimal


@strawberry.type(description="Paid API usage (LLM, enrichment) in USD, with a per-model breakdown. "
                 "Reported beside expenses, never mixed into the cost per account.")
class ApiUsageSummary:
    cost_usd: Decimal
    calls: int
    by_model: list[ModelUsage] = strawberry.field(description="One entry per provider and model, by provider "
                                                  "then model.")

    @classmethod
    def from_summary(cls, usage: expenses_service.UsageSummary) -> ApiUsageSummary:
        return cls(cost_usd=usage.cost_usd, calls=usage.calls, by_model=[
            ModelUsage(provider=m.provider, model=m.model, calls=m.calls, input_units=m.input_units,
                       output_units=m.output_units, cost_usd=m.cost_usd) for m in usage.by_model])


@strawberry.type(description="What the campaign's outcomes cost: totals per currency (never "
                 "converted); cost per outreached, responded and customer account where one currency is used.")
class CampaignCosts:
    totals: list[Money] = strawberry.field(description="One total per currency, by currency code.")
    currency: str | None = strawberry.field(description="The single currency of the expenses; null when none "
                                            "or several.")
    cost_per_outreached: CostRatio
    cost_per_responded: CostRatio
    cost_per_customer: CostRatio = strawberry.field(
        description="Customers: accounts of the campaign that became customers after they were added to it.")
    customer_accounts: int
    api_usage: ApiUsageSummary

    @classmethod
    def from_costs(cls, costs: expenses_service.Costs) -> CampaignCosts:
        by = {r.outcome: CostRatio.from_ratio(r) for r in costs.ratios}
        return cls(
            totals=[Money(amount=t.amount, currency=t.currency) for t in costs.totals],
            currency=costs.totals[0].currency if len(costs.totals) == 1 else None,
            cost_per_outreached=by["outreached"], cost_per_responded=by["responded"],
            cost_per_customer=by["customer"], customer_accounts=costs.customers,
            api_usage=ApiUsageSummary.from_summary(costs.api_usage),
        )


@strawberry.input(description="An expense of a campaign.")
class AddExpenseInput:
    campaign_id: relay.GlobalID
    kind: ExpenseKind
    amount: Decimal = strawberry.field(description="Greater than 0, with no more decimals than the currency has "
                                       "(EUR: two, JPY: none), e.g. \"1250.50\".")
    currency: str | None = strawberry.field(
        default=None, description="ISO 4217 code of a currency in use today (obsolete codes such as DEM and codes "
        "that are no money such as XXX or XAU are refused; three-decimal currencies such as KWD are not supported "
        "yet); default: the currency the campaign's expenses already use.")
    incurred_on: date | None = strawberry.field(
        default=None, description="Default: today. At most ten years back and a year ahead.")
    vendor: str | None = None
    description: str | None = None
    external_ref: str | None = strawberry.field(default=None, description="An invoice or PO number.")
    idempotency_key: str | None = idempotency_key("the first expense")

    def to_command(self) -> expenses_service.AddExpense:
        return expenses_service.AddExpense(
            campaign_id=pk_of(self.campaign_id, "Campaign", "campaign_id"), kind=self.kind, amount=self.amount,
            currency=self.currency, incurred_on=self.incurred_on, vendor=self.vendor, description=self.description,
            external_ref=self.external_ref, idempotency_key=self.idempotency_key)


@strawberry.input(description="Only the fields given change.")
class UpdateExpenseInput:
    id: relay.GlobalID
    kind: ExpenseKind | None = strawberry.UNSET
    amount: Decimal | None = strawberry.UNSET
    currency: str | None = strawberry.UNSET
    incurred_on: date | None = strawberry.UNSET
    vendor: str | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    external_ref: str | None = strawberry.UNSET

    def to_command(self) -> expenses_service.UpdateExpense:
        return expenses_service.UpdateExpense(
            id=pk_of(self.id, "Expense", "id"), kind=maybe(self.kind), amount=maybe(self.amount),
            currency=maybe(self.currency), incurred_on=maybe(self.incurred_on), vendor=maybe(self.vendor),
            description=maybe(self.description), external_ref=maybe(self.external_ref))


@strawberry.input
class DeleteExpenseInput:
    id: relay.GlobalID


@strawberry.type
class ExpensePayload:
    expense: Expense | None = None
    replayed: bool = replayed("addExpense")
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class DeleteExpensePayload:
    deleted_expense_id: relay.GlobalID | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ExpenseMutations:
    @mutation("Record money spent on a campaign (amount > 0, ISO 4217 currency, one of the expense kinds).")
    async def add_expense(self, info: Info, input: AddExpenseInput) -> ExpensePayload:
        result = await expenses_service.add_expense(info.context.access, input.to_command())
        return ExpensePayload(expense=Expense.from_model(result.expense), replayed=result.replayed)

    @mutation("Correct an expense.")
    async def update_expense(self, info: Info, input: UpdateExpenseInput) -> ExpensePayload:
        result = await expenses_service.update_expense(info.context.access, input.to_command())
        return ExpensePayload(expense=Expense.from_model(result.expense))

    @mutation("Delete an expense (the audit trail keeps it).")
    async def delete_expense(self, info: Info, input: DeleteExpenseInput) -> DeleteExpensePayload:
        cmd = expenses_service.DeleteExpense(id=pk_of(input.id, "Expense", "id"))
        result = await expenses_service.delete_expense(info.context.access, cmd)
        return DeleteExpensePayload(deleted_expense_id=relay.GlobalID("Expense", str(result.expense.id)))
