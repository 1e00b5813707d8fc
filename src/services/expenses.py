"""Campaign expenses (exact decimals, one ISO 4217 currency each) and what outcomes cost.

Costs are totals per currency, never converted; cost per outreached, per responded
and per customer account only where the campaign's expenses use one currency (otherwise no
ratio, and a reason saying why). Paid API usage is reported beside it in USD, never mixed in.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from babel.core import get_global
from babel.numbers import get_currency_precision, get_territory_currencies, list_currencies
from tortoise import connections
from tortoise.functions import Count, Sum
from tortoise.transactions import in_transaction

from outboundql import models
from outboundql.enums import AccountStatus, ExpenseKind, Role
from outboundql.errors import Collector
from outboundql.services import audit, events, fields, idempotency, sql
from outboundql.services.access import Access
from outboundql.services.commands import UNSET, Maybe, given

MAX_AMOUNT = Decimal("999999999999.99")  # the column holds 14 digits, 2 after the point
OLDEST_YEARS = 10
LATEST_DAYS = 366
CENT = Decimal("0.01")
USD_PLACES = 6  # ApiUsage.cost_usd
MICRO_USD = Decimal("0.000001")

_CLEANERS = {
    "vendor": fields.text(200, label="Vendor"),
    "description": fields.long_text(5000, label="Description"),
    "external_ref": fields.text(200, label="External reference"),
}


@functools.cache
def currencies() -> frozenset[str]:
    """The ISO 4217 currencies in use today: the legal tender of at least one territory on this date (Babel's
    CLDR territory data, ``get_territory_currencies(territory, tender=True)`` over every territory). Obsolete
    codes (DEM, ESP), funds and units (USN, CLF) and codes that are no money (XXX, XTS, XAU) are not in it."""
    return frozenset(code for territory in get_global("territory_currencies")
                     for code in get_territory_currencies(territory, tender=True))


def decimal_places(code: str) -> int:
    """The currency's minor unit (CLDR): JPY 0, EUR 2, KWD 3."""
    return get_currency_precision(code)


def clean_amount(value: Any, check: Collector) -> Decimal | None:
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        check.add("amount", f"{value!r} is not a number; write it like 1250.50.")
        return None
    if not amount.is_finite() or amount <= 0:
        check.add("amount", "The amount must be greater than 0.")
    elif amount > MAX_AMOUNT:
        check.add("amount", f"The amount must be at most {MAX_AMOUNT}.")
    elif amount != amount.quantize(CENT):
        check.add("amount", "The amount has at most 2 decimal places.")
    else:
        return amount.quantize(CENT)
    return None


def clean_currency(value: Any, check: Collector) -> str | None:
    code = str(value or "").strip().upper()
    if code not in currencies():
        if code in list_currencies():
            check.add("currency", f"{code} is not a currency in use today (an obsolete currency, or a code "
                      "that is no money, like XXX or XAU); give the currency you paid in, e.g. EUR, USD, GBP.")
        else:
            check.add("currency", f"{value!r} is not an ISO 4217 currency code (e.g. EUR, USD, GBP).")
        return None
    if decimal_places(code) > 2:
        check.add("currency", f"{code} has three decimal places: such currencies are not supported yet "
                  "(expense amounts keep two decimals); record this expense in another currency for now.")
        return None
    return code


def check_minor_unit(amount: Decimal | None, code: str | None, check: Collector) -> None:
    """An amount has no more decimals than its currency (JPY: none); amounts are stored with two."""
    if amount is None or code is None:
        return
    places = decimal_places(code)
    if amount != amount.quantize(Decimal(1).scaleb(-places)):
        check.add("amount", f"{code} has no decimal places: give a whole amount." if places == 0 else
                  f"{code} has {places} decimal places: give the amount with at most {places}.")


def clean_date(value: date, check: Collector, today: date) -> date | None:
    oldest = date(today.year - OLDEST_YEARS, today.month, min(today.day, 28))
    latest = today + timedelta(days=LATEST_DAYS)
    if not oldest <= value <= latest:
        check.add("incurred_on", f"The date must be between {oldest.isoformat()} and {latest.isoformat()} "
                  "(at most ten years back and a year ahead).")
        return None
    return value


async def default_currency(campaign_id: int) -> str | None:
    """The currency the campaign's expenses already use (the most recent one's)."""
    row = await models.Expense.filter(campaign_id=campaign_id).order_by("-created_at", "-id").first()
    return row.currency if row else None


@dataclass(frozen=True, slots=True)
class AddExpense:
    """Record money spent on a campaign."""

    campaign_id: int
    kind: ExpenseKind
    amount: Decimal
    """Greater than 0, with no more decimals than the currency has."""
    currency: str | None = None
    """ISO 4217; default: the currency the campaign's expenses already use."""
    incurred_on: date | None = None
    """Default: today."""
    vendor: str | None = None
    description: str | None = None
    external_ref: str | None = None
    idempotency_key: str | None = None
    """A retry with the same key answers the first expense (see `outboundql.services.idempotency`)."""


@dataclass(frozen=True, slots=True)
class UpdateExpense:
    """Correct an expense: only the fields given change (amount, currency, date and kind cannot be cleared)."""

    id: int
    kind: Maybe[ExpenseKind | None] = UNSET
    amount: Maybe[Decimal | None] = UNSET
    currency: Maybe[str | None] = UNSET
    incurred_on: Maybe[date | None] = UNSET
    vendor: Maybe[str | None] = UNSET
    description: Maybe[str | None] = UNSET
    external_ref: Maybe[str | None] = UNSET


@dataclass(frozen=True, slots=True)
class DeleteExpense:
    id: int


@dataclass(frozen=True, slots=True)
class ExpenseChanged:
    expense: models.Expense
    """The expense as stored (after a delete: the deleted row, its ``id`` kept)."""
    replayed: bool = False
    """addExpense's answer to an earlier request with the same idempotency key (nothing was written)."""


def _clean(data: dict[str, Any], check: Collector) -> dict[str, Any]:
    cleaned = fields.clean({k: v for k, v in data.items() if k in _CLEANERS}, _CLEANERS, check)
    for name in ("vendor", "description"):
        if name in cleaned and cleaned[name] is None:
            cleaned[name] = ""
    if "amount" in data:
        cleaned["amount"] = clean_amount(data["amount"], check)
    if data.get("currency") is not None:
        cleaned["currency"] = clean_currency(data["currency"], check)
    if data.get("incurred_on") is not None:
        cleaned["incurred_on"] = clean_date(data["incurred_on"], check, datetime.now(UTC).date())
    if data.get("kind") is not None:
        cleaned["kind"] = ExpenseKind(data["kind"])
    return cleaned


async def add_expense(access: Access, cmd: AddExpense) -> ExpenseChanged:
    """Record an expense; once committed, the campaign's page hears ``campaign_updated``. A retry with the
    request's idempotency key answers the first expense (its default currency and date as they were)."""
    campaign = await access.get(models.Campaign, cmd.campaign_id, Role.MEMBER, field="campaign_id")
    once = idempotency.Once.of(cmd, "expense.add", project_id=campaign.project_id)

    async def write() -> tuple[ExpenseChanged, idempotency.Answer]:
        check = Collector()
        cleaned = _clean(given(cmd, exclude=("campaign_id", "idempotency_key")), check)
        if cmd.currency is None:
            cleaned["currency"] = await default_currency(campaign.id)
            if cleaned["currency"] is None:
                check.add("currency", "Give the currency: this campaign has no expense yet to take it from.")
        check_minor_unit(cleaned.get("amount"), cleaned.get("currency"), check)
        if cleaned.get("incurred_on") is None:
            cleaned["incurred_on"] = datetime.now(UTC).date()
        check.raise_if_any()
        row = await models.Expense.create(project_id=campaign.project_id, campaign_id=campaign.id,
                                          created_by=access.user, **cleaned)
        await audit.record(project_id=campaign.project_id, actor=access.user, action="expense.add", row=row,
                           after=audit.snapshot(row))
        return ExpenseChanged(row), {"expense_id": row.id}

    async def replay(answer: idempotency.Answer) -> ExpenseChanged | None:
        row = await models.Expense.get_or_none(id=answer["expense_id"], campaign_id=campaign.id)
        return None if row is None else ExpenseChanged(row, replayed=True)

    result = await idempotency.create_once(once, write, replay)
    if not result.replayed:
        await events.publish_campaign_event(result.expense.campaign_id, "campaign_updated")
    return result


async def update_expense(access: Access, cmd: UpdateExpense) -> ExpenseChanged:
    """Change the given fields; once committed, the campaign's page hears ``campaign_updated``."""
    row = await access.get(models.Expense, cmd.id, Role.MEMBER, field="id")
    data = given(cmd, exclude=("id",))
    check = Collector()
    for name, label in (("amount", "The amount"), ("currency", "The currency"), ("incurred_on", "The date"),
                        ("kind", "The kind")):
        if name in data and data[name] is None:
            check.add(name, f"{label} cannot be cleared; give a new value or leave it out.")
    cleaned = _clean({k: v for k, v in data.items() if v is not None or k in _CLEANERS}, check)
    if not check.items:  # a changed currency checks the stored amount too, and the other way round
        check_minor_unit(cleaned.get("amount", row.amount), cleaned.get("currency", row.currency), check)
    check.raise_if_any()
    async with in_transaction():
        before = audit.snapshot(row)
        for name, value in cleaned.items():
            setattr(row, name, value)
        await row.save()
        old, new = audit.changed(before, audit.snapshot(row))
        if new:
            await audit.record(project_id=row.project_id, actor=access.user, action="expense.update", row=row,
                               before=old, after=new)
    await events.publish_campaign_event(row.campaign_id, "campaign_updated")
    return ExpenseChanged(expense=row)


async def delete_expense(access: Access, cmd: DeleteExpense) -> ExpenseChanged:
    """Delete an expense (the audit trail keeps it); the answer is the deleted row (its ``id`` kept). Once
    committed, the campaign's page hears ``campaign_updated``."""
    row = await access.get(models.Expense, cmd.id, Role.MEMBER, field="id")
    async with in_transaction():
        await audit.record(project_id=row.project_id, actor=access.user, action="expense.delete", row=row,
                           before=audit.snapshot(row))
        await models.Expense.filter(id=row.id).delete()
    await events.publish_campaign_event(row.campaign_id, "campaign_updated")
    return ExpenseChanged(expense=row)


async def campaign_expenses(campaign_id: int) -> list[models.Expense]:
    return await models.Expense.filter(campaign_id=campaign_id).order_by("-incurred_on", "-id")


# --- costs ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Money:
    amount: Decimal
    currency: str


@dataclass(frozen=True, slots=True)
class Ratio:
    """Spend per account reaching an outcome; ``value`` is None when there is no honest answer (``reason``)."""

    outcome: str
    accounts: int
    value: Money | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class ModelUsage:
    provider: str
    model: str
    calls: int
    input_units: int
    output_units: int
    cost_usd: Decimal


@dataclass(frozen=True, slots=True)
class UsageSummary:
    cost_usd: Decimal = Decimal(0)
    calls: int = 0
    by_model: list[ModelUsage] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Costs:
    totals: list[Money]
    ratios: list[Ratio]
    api_usage: UsageSummary
    customers: int


async def customer_counts(campaign_ids: list[int]) -> dict[int, int]:
    """Closed-won within each campaign's cohort: accounts of the campaign that are customers now and became
    customers after they were added to it. Two queries for any number of campaigns."""
    rows = await models.CampaignAccount.filter(
        campaign_id__in=campaign_ids, account__status=AccountStatus.CUSTOMER).values(
        "campaign_id", "account_id", "created_at")
    if not rows:
        return {}
    won: dict[int, list[datetime]] = defaultdict(list)
    for change in await models.AccountStatusChange.filter(
        account_id__in=sorted({r["account_id"] for r in rows}), to_status=AccountStatus.CUSTOMER,
    ).values("account_id", "created_at"):
        won[change["account_id"]].append(change["created_at"])
    counts: dict[int, int] = defaultdict(int)
    for row in rows:
        if any(t >= row["created_at"] for t in won.get(row["account_id"], [])):
            counts[row["campaign_id"]] += 1
    return counts


async def usage_summaries(campaign_ids: list[int]) -> dict[int, UsageSummary]:
    conn = connections.get("default")
    rows = await (
        models.ApiUsage.filter(campaign_id__in=campaign_ids)
        .annotate(calls=Count("id"), cost=sql.decimal_sum(conn, "cost_usd", USD_PLACES), inputs=Sum("input_units"),
                  outputs=Sum("output_units"))
        .group_by("campaign_id", "provider", "model").order_by("provider", "model")
        .values("campaign_id", "provider", "model", "calls", "cost", "inputs", "outputs")
    )
    by_campaign: dict[int, list[ModelUsage]] = defaultdict(list)
    for r in rows:
        by_campaign[r["campaign_id"]].append(ModelUsage(
            provider=r["provider"], model=r["model"], calls=int(r["calls"]), input_units=int(r["inputs"] or 0),
            output_units=int(r["outputs"] or 0),
            cost_usd=sql.decimal_value(conn, r["cost"], USD_PLACES).quantize(MICRO_USD),
        ))
    return {
        cid: UsageSummary(cost_usd=sum((m.cost_usd for m in models_), Decimal(0)),
                          calls=sum(m.calls for m in models_), by_model=models_)
        for cid, models_ in by_campaign.items()
    }


#: Why a ratio is missing when no account reached its outcome: one sentence per outcome.
NONE_REACHED = {
    "outreached": "No account has been reached yet",
    "responded": "No account has replied yet",
    "customer": "No account has become a customer yet",
}


def ratio(outcome: str, totals: list[Money], accounts: int, *,
          no_expenses: str = "No expenses are recorded for this campaign yet.",
          none_reached: str | None = None) -> Ratio:
    """Spend per account reaching ``outcome`` (``totals`` ÷ ``accounts``, to the cent), only when one currency is
    used; else the reason: ``no_expenses`` without totals, several currencies, or ``none_reached`` (default: the
    outcome's `NONE_REACHED`) when no account reached it."""
    if not totals:
        return Ratio(outcome, accounts, reason=no_expenses)
    if len(totals) > 1:
        codes = ", ".join(t.currency for t in totals)
        return Ratio(outcome, accounts, reason=f"Expenses are in {len(totals)} currencies ({codes}) and are never "
                     "converted, so there is no single cost per account; see the totals.")
    if not accounts:
        return Ratio(outcome, accounts,
                     reason=f"{none_reached or NONE_REACHED[outcome]}, so there is nothing to divide by.")
    total = totals[0]
    return Ratio(outcome, accounts,
                 value=Money((total.amount / accounts).quantize(CENT, rounding=ROUND_HALF_UP), total.currency))


def ratios(totals: list[Money], counts: dict[str, int]) -> list[Ratio]:
    """Cost per account reaching each outcome, only when one currency is used."""
    return [ratio(outcome, totals, accounts) for outcome, accounts in counts.items()]


async def costs_by_campaign(campaigns: list[models.Campaign]) -> dict[int, Costs]:
    """Costs of many campaigns in four grouped queries (no query per campaign)."""
    ids = [c.id for c in campaigns]
    conn = connections.get("default")
    sums: dict[int, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for row in await (models.Expense.filter(campaign_id__in=ids).annotate(total=sql.decimal_sum(conn, "amount", 2))
                      .group_by("campaign_id", "currency").values("campaign_id", "currency", "total")):
        sums[row["campaign_id"]][row["currency"]] += sql.decimal_value(conn, row["total"], 2)
    customers = await customer_counts(ids)
    usage = await usage_summaries(ids)
    out = {}
    for c in campaigns:
        totals = [Money(amount.quantize(CENT), code) for code, amount in sorted(sums[c.id].items())]
        counts = {"outreached": c.outreached_accounts, "responded": c.responded_accounts,
                  "customer": customers.get(c.id, 0)}
        out[c.id] = Costs(totals=totals, ratios=ratios(totals, counts), api_usage=usage.get(c.id, UsageSummary()),
                          customers=customers.get(c.id, 0))
    return out
