"""Paid API usage (LLM, enrichment): recording the calls and what each account cost.

Every paid call is one ApiUsage row on its project (and campaign, when it served one): campaign summaries count
calls from those rows, once each. A call about accounts gives each of them its share (an ApiUsageShare row): a
call about N accounts (a scoring batch, replies read together for their class or signals, a draft for one
account) gives each 1/N of its cost and units, in whole micro-dollars and whole units, the remainder one unit at
a time to the first accounts in id order, so the shares of a call add up to the call exactly. The call and its
shares are written in one transaction. An account's usage (`usage_by_account`) sums its shares: every call it
had a share of counts once for it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from tortoise import connections
from tortoise.expressions import Subquery
from tortoise.transactions import in_transaction

from outboundql import models
from outboundql.enums import UsageOperation
from outboundql.services.expenses import MICRO_USD, USD_PLACES, ModelUsage, UsageSummary
from outboundql.services.sql import chunks, decimal_value, int_list, is_postgres

_MICRO = 10 ** USD_PLACES


@dataclass(frozen=True, slots=True)
class PaidCall:
    """One call to a paid service, as it is recorded."""

    provider: str
    model: str
    operation: UsageOperation
    input_units: int
    output_units: int
    cost_usd: Decimal
    account_ids: Sequence[int] = ()
    """The accounts the call was about: each gets its share. None: the call is nobody's (a persona, a product)."""


def split(total: int, parts: int) -> list[int]:
    """``total`` in ``parts`` whole shares that add up to it, the larger ones first: ``split(10, 3) == [4, 3, 3]``."""
    base, extra = divmod(total, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]


async def record(project_id: int, campaign_id: int | None, calls: Sequence[PaidCall]) -> None:
    """The calls' ApiUsage rows and their accounts' shares, in one transaction (the caller's, when one is open).
    Accounts not of ``project_id`` (or erased before this reads them) get no share; the call's cost is kept all the
    same. On PostgreSQL the accounts read are locked against deletion (``FOR KEY SHARE``) until the transaction
    ends, so an erasure running at the same time waits and then removes the shares with the account, rather than
    making the shares' insert fail and roll the caller's work back."""
    if not calls:
        return
    wanted = sorted({int(a) for call in calls for a in call.account_ids})
    async with in_transaction() as conn:
        lock = " FOR KEY SHARE" if is_postgres(conn) else ""  # embedded SQLite: one process, one transaction at a time
        known: set[int] = set()
        for part in chunks(wanted):
            _, rows = await conn.execute_query(
                f"SELECT id FROM {models.Account._meta.db_table} WHERE project_id = {int(project_id)} "
                f"AND id IN ({int_list(part)}) ORDER BY id{lock}")
            known.update(int(r["id"]) for r in rows)
        shares: list[models.ApiUsageShare] = []
        for call in calls:
            accounts = sorted({int(a) for a in call.account_ids} & known)
            usage = await models.ApiUsage.create(
                project_id=project_id, campaign_id=campaign_id, provider=call.provider, model=call.model,
                operation=call.operation, input_units=call.input_units, output_units=call.output_units,
                cost_usd=call.cost_usd, account_id=accounts[0] if len(accounts) == 1 else None)
            if not accounts:
                continue
            micros = int(call.cost_usd.quantize(MICRO_USD) * _MICRO)
            n = len(accounts)
            shares += [
                models.ApiUsageShare(usage_id=usage.id, project_id=project_id, account_id=account_id,
                                     cost_usd=Decimal(cost).scaleb(-USD_PLACES), input_units=inputs,
                                     output_units=outputs)
                for account_id, cost, inputs, outputs in zip(
                    accounts, split(micros, n), split(call.input_units, n), split(call.output_units, n), strict=True)
            ]
        if shares:
            await models.ApiUsageShare.bulk_create(shares)


async def usage_by_account(account_ids: Sequence[int]) -> dict[int, UsageSummary]:
    """Each account's paid usage from its shares, by provider and model: one grouped statement per 2,000
    accounts. An account without usage is left out."""
    conn = connections.get("default")
    cost = ("SUM(s.cost_usd)" if is_postgres(conn)
            else f"SUM(CAST(ROUND(s.cost_usd * {_MICRO}) AS INTEGER))")  # SQLite keeps decimals as text
    grouped: dict[int, list[ModelUsage]] = defaultdict(list)
    for part in chunks(sorted(set(account_ids))):
        _, rows = await conn.execute_query(
            f"SELECT s.account_id AS account_id, u.provider AS provider, u.model AS model, COUNT(*) AS calls, "
            f"{cost} AS cost, SUM(s.input_units) AS inputs, SUM(s.output_units) AS outputs "
            "FROM api_usage_share s JOIN api_usage u ON u.id = s.usage_id "
            f"WHERE s.account_id IN ({int_list(part)}) "
            "GROUP BY s.account_id, u.provider, u.model ORDER BY u.provider, u.model")
        for r in rows:
            grouped[int(r["account_id"])].append(ModelUsage(
                provider=str(r["provider"]), model=str(r["model"]), calls=int(r["calls"]),
                input_units=int(r["inputs"] or 0), output_units=int(r["outputs"] or 0),
                cost_usd=decimal_value(conn, r["cost"], USD_PLACES).quantize(MICRO_USD)))
    # a call has one model: the per-model counts add up to the account's calls, none counted twice
    return {account_id: UsageSummary(cost_usd=sum((m.cost_usd for m in by_model), Decimal(0)),
                                     calls=sum(m.calls for m in by_model), by_model=by_model)
            for account_id, by_model in grouped.items()}


async def move_shares(source_id: int, target_id: int) -> None:
    """An account merged into another: its shares become the target's; a call both had a share of leaves the
    target one share, the two added up (the call still counts once for it)."""
    of_target = Subquery(models.ApiUsageShare.filter(account_id=target_id).values("usage_id"))
    for share in await models.ApiUsageShare.filter(account_id=source_id, usage_id__in=of_target):
        kept = await models.ApiUsageShare.get(usage_id=share.usage_id, account_id=target_id)
        kept.cost_usd = Decimal(kept.cost_usd) + Decimal(share.cost_usd)
        kept.input_units += share.input_units
        kept.output_units += share.output_units
        await kept.save(update_fields=["cost_usd", "input_units", "output_units"])
        await share.delete()
    await models.ApiUsageShare.filter(account_id=source_id).update(account_id=target_id)
