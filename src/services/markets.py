"""Markets: territories inside a project that group campaigns, with metrics rolled up from them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, cast

from tortoise import connections
from tortoise.functions import Count, Sum
from tortoise.transactions import in_transaction

from outboundql import models
from outboundql.enums import Role
from outboundql.errors import Collector
from outboundql.services import audit, fields, idempotency, saved_filters
from outboundql.services.access import Access
from outboundql.services.campaign_stats import OUTREACHED
from outboundql.services.commands import UNSET, Maybe, given
from outboundql.services.filter_expressions import validate_expression
from outboundql.services.filter_sql import TABLE, Binder
from outboundql.services.slugs import unique_slug
from outboundql.services.sql import is_postgres

MAX_FILTERS_BYTES = 20_000


@dataclass(frozen=True, slots=True)
class CreateMarket:
    project_id: int
    name: str
    description: str = ""
    filters: Any = None
    """A JSON object describing the territory (anything else is refused)."""
    idempotency_key: str | None = None
    """A retry with the same key answers the first market (see `outboundql.services.idempotency`)."""


@dataclass(frozen=True, slots=True)
class UpdateMarket:
    """Only the fields given change; renaming re-derives the slug."""

    id: int
    name: Maybe[str | None] = UNSET
    description: Maybe[str | None] = UNSET
    filters: Maybe[Any] = UNSET


@dataclass(frozen=True, slots=True)
class DeleteMarket:
    id: int


@dataclass(frozen=True, slots=True)
class MarketChanged:
    market: models.Market
    replayed: bool = False
    """A create's answer to an earlier request with the same idempotency key (nothing was written)."""


@dataclass(frozen=True, slots=True)
class MarketDeleted:
    market_id: int
    released_campaign_ids: list[int]
    """The campaigns that belonged to the market, now without one."""


#: The territory keys of a market's filters, each a list of values of one account field.
TERRITORY_KEYS = {"countries": "country", "cities": "city", "industries": "industry", "languages": "language",
                  "statuses": "status", "tags": "tags"}
_EXPRESSION_KEYS = frozenset({"all", "any", "not", "field"})


def landscape(filters: dict[str, Any] | None) -> Any | None:
    """The filter expression of a market's candidate landscape (the saved-filter language): ``filters`` itself
    when it is an expression, else one ``in`` condition per territory key, all of which must hold; None when the
    filters name no territory (the market has no landscape)."""
    if not filters:
        return None
    if _EXPRESSION_KEYS & set(filters):
        raw: Any = filters
    else:
        conditions = [{"field": TERRITORY_KEYS[key], "op": "in", "value": values}
                      for key, values in sorted(filters.items()) if key in TERRITORY_KEYS and values]
        if not conditions:
            return None
        raw = {"all": conditions}
    check = Collector()
    expression = validate_expression(raw, check, "filters")
    return None if check.items else expression


def _check_territory(value: dict[str, Any]) -> None:
    """Refuse filters that do not describe a landscape, saying what would."""
    if not _EXPRESSION_KEYS & set(value):
        unknown = sorted(set(value) - set(TERRITORY_KEYS))
        if unknown:
            raise ValueError(f"Unknown filter key(s) {', '.join(repr(k) for k in unknown)}; use "
                             f"{', '.join(TERRITORY_KEYS)} (each a list of values), or a filter expression like a "
                             "saved filter's.")
        for key, values in value.items():
            if not isinstance(values, list) or not all(isinstance(v, str) and v.strip() for v in values):
                raise ValueError(f"{key!r} takes a list of non-empty strings, e.g. {{\"{key}\": [\"...\"]}}.")
    if _EXPRESSION_KEYS & set(value):
        raw: Any = value
    else:
        raw = {"all": [{"field": TERRITORY_KEYS[k], "op": "in", "value": v} for k, v in sorted(value.items()) if v]}
    check = Collector()
    validate_expression(raw, check, "filters")
    if check.items:
        raise ValueError(" ".join(f"{issue.field}: {issue.message}" for issue in check.items))


def _filters(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValueError('Filters must be a JSON object, e.g. {"countries": ["US"], "cities": ["New York"]}.')
    size = len(json.dumps(value))
    if size > MAX_FILTERS_BYTES:
        raise ValueError(f"Filters are too large ({size} bytes; at most {MAX_FILTERS_BYTES}).")
    stored = fields.storable_json(value, "Filters")
    _check_territory(stored)
    return stored


_CLEANERS = {
    "name": fields.text(200, required=True, label="Name"),
    "description": fields.long_text(label="Description"),
    "filters": _filters,
}


def _clean(data: dict[str, Any]) -> dict[str, Any]:
    check = Collector()
    if "name" in data and data["name"] is None:
        check.add("name", "Name cannot be removed.")
        check.raise_if_any()
    cleaned = fields.clean({k: v for k, v in data.items() if k in _CLEANERS}, _CLEANERS, check)
    check.raise_if_any()
    return cleaned


async def create_market(access: Access, cmd: CreateMarket) -> MarketChanged:
    access.require(cmd.project_id, Role.MEMBER, field="project_id")
    once = idempotency.Once.of(cmd, "market.create", project_id=cmd.project_id)
    cleaned = _clean(given(cmd, exclude=("project_id", "idempotency_key")))

    async def write() -> tuple[MarketChanged, idempotency.Answer]:
        slug = await unique_slug(models.Market, cleaned["name"], fallback="market", project_id=cmd.project_id)
        market = await models.Market.create(project_id=cmd.project_id, slug=slug, **cleaned)
        await audit.record(project_id=cmd.project_id, actor=access.user, action="market.create", row=market,
                           after=audit.snapshot(market))
        return MarketChanged(market), {"market_id": market.id}

    async def replay(answer: idempotency.Answer) -> MarketChanged | None:
        market = await models.Market.get_or_none(id=answer["market_id"], project_id=cmd.project_id)
        return None if market is None else MarketChanged(market, replayed=True)

    return await idempotency.create_once(once, write, replay)


async def update_market(access: Access, cmd: UpdateMarket) -> MarketChanged:
    """Change name (the slug follows, collisions suffixed), description or filters."""
    market = await access.get(models.Market, cmd.id, Role.MEMBER, field="id")
    cleaned = _clean(given(cmd, exclude=("id",)))
    async with in_transaction(), audit.tracked(market, project_id=market.project_id, actor=access.user,
                                               action="market.update"):
        if "name" in cleaned and cleaned["name"] != market.name:
            market.slug = await unique_slug(models.Market, cleaned["name"], fallback="market",
                                            project_id=market.project_id, exclude_id=market.id)
        for key, value in cleaned.items():
            setattr(market, key, value)
        await market.save()
    return MarketChanged(market=market)


async def delete_market(access: Access, cmd: DeleteMarket) -> MarketDeleted:
    """Delete a market; its campaigns stay, without a market."""
    market = await access.get(models.Market, cmd.id, Role.MEMBER, field="id")
    async with in_transaction():
        campaign_ids = cast("list[int]", list(await models.Campaign.filter(market_id=market.id).order_by("id")
                                              .values_list("id", flat=True)))
        if campaign_ids:
            await models.Campaign.filter(id__in=campaign_ids).update(market_id=None)
        await audit.record(project_id=market.project_id, actor=access.user, action="market.delete", row=market,
                           before=audit.snapshot(market), after={"released_campaign_ids": campaign_ids})
        await market.delete()
    return MarketDeleted(market_id=cmd.id, released_campaign_ids=campaign_ids)


async def project_markets(project_id: int) -> list[models.Market]:
    """The markets of a project, by name."""
    return list(await models.Market.filter(project_id=project_id).order_by("name"))


@dataclass(frozen=True, slots=True)
class MarketMetrics:
    """The sums of a market's campaigns' cached statistics (archived campaigns included)."""

    campaign_count: int = 0
    total_accounts: int = 0
    scored_accounts: int = 0
    approved_accounts: int = 0
    outreached_accounts: int = 0
    responded_accounts: int = 0

    @property
    def response_rate(self) -> float:
        """responded / outreached, 0 when nothing was sent."""
        if not self.outreached_accounts:
            return 0.0
        return round(self.responded_accounts / self.outreached_accounts, 4)


_SUMS = ("total_accounts", "scored_accounts", "approved_accounts", "outreached_accounts", "responded_accounts")


async def metrics_by_market(market_ids: list[int]) -> dict[int, MarketMetrics]:
    """Metrics of many markets in one aggregate query; a market without campaigns gets zeros."""
    rows = await (
        models.Campaign.filter(market_id__in=market_ids)
        .annotate(campaign_count=Count("id"), **{f"sum_{name}": Sum(name) for name in _SUMS})
        .group_by("market_id")
        .values("market_id", "campaign_count", *(f"sum_{name}" for name in _SUMS))
    )
    out = {
        row["market_id"]: MarketMetrics(
            campaign_count=int(row["campaign_count"] or 0),
            **{name: int(row[f"sum_{name}"] or 0) for name in _SUMS},
        )
        for row in rows
    }
    return {i: out.get(i, MarketMetrics()) for i in market_ids}


# --- the landscape: the market's candidate accounts -----------------------------------------------------------


def landscape_accounts(market: models.Market) -> saved_filters.MatchingAccounts | None:
    """The project's accounts in the market's landscape, as a query a keyset page reads however many they are;
    None when its filters name none."""
    expression = landscape(market.filters)
    if expression is None:
        return None
    return saved_filters.MatchingAccounts(market.project_id, expression)


@dataclass(frozen=True, slots=True)
class Coverage:
    """How much of a market's landscape its campaigns hold and have reached."""

    landscape: int
    """Accounts in the landscape."""
    in_campaigns: int
    """Of them, accounts in at least one of the market's campaigns."""
    reached: int
    """Of them, accounts some campaign of the market reached out to (outreach sent, bounced or responded)."""

    @property
    def rate(self) -> float:
        """reached / landscape; 0 for an empty landscape."""
        return round(self.reached / self.landscape, 4) if self.landscape else 0.0


async def coverage(market: models.Market) -> Coverage:
    """The landscape against the accounts the market's campaigns hold and reached: one statement over the
    project's accounts joined to what the campaigns hold (plus, when SQL cannot judge some accounts, one listing
    those and a few evaluating them in Python)."""
    expression = landscape(market.filters)
    if expression is None:
        return Coverage(landscape=0, in_campaigns=0, reached=0)
    conn = connections.get("default")
    postgres = is_postgres(conn)
    binder = Binder(postgres)
    project, market_id = binder(market.project_id), binder(market.id)
    reached = ", ".join(binder(status.value) for status in OUTREACHED)
    state = saved_filters.judged(expression, binder)
    held = (f"SELECT ca.account_id AS account_id, MAX(CASE WHEN ca.outreach_status IN ({reached}) THEN 1 ELSE 0 END) "
            f"AS reached FROM campaign_account AS ca JOIN campaign AS c ON c.id = ca.campaign_id "
            f"WHERE c.market_id = {market_id} GROUP BY ca.account_id")
    rows = (f"{TABLE} LEFT JOIN ({held}) AS held ON held.account_id = {TABLE}.id "
            f"WHERE {TABLE}.project_id = {project}")
    [counts] = await conn.execute_query_dict(*binder.finish(
        "SELECT COUNT(CASE WHEN s = 1 THEN 1 END) AS landscape, "
        "COUNT(CASE WHEN s = 1 AND held IS NOT NULL THEN 1 END) AS in_campaigns, "
        "COUNT(CASE WHEN s = 1 AND reached = 1 THEN 1 END) AS reached, COUNT(CASE WHEN s = 2 THEN 1 END) AS unsure "
        f"FROM (SELECT {state} AS s, held.account_id AS held, held.reached AS reached FROM {rows}"
        f"{saved_filters.fence(postgres)}) AS judged"))
    found = Coverage(landscape=int(counts["landscape"]), in_campaigns=int(counts["in_campaigns"]),
                     reached=int(counts["reached"]))
    if not int(counts["unsure"]):
        return found
    unsure = await conn.execute_query_dict(*binder.finish(
        f"SELECT id, held, reached FROM (SELECT {TABLE}.id AS id, {state} AS s, held.account_id AS held, "
        f"held.reached AS reached FROM {rows}{saved_filters.fence(postgres)}) AS judged WHERE s = 2"))
    matched = await saved_filters.confirmed(expression, [int(r["id"]) for r in unsure])
    mine = [r for r in unsure if int(r["id"]) in matched]
    return Coverage(landscape=found.landscape + len(mine),
                    in_campaigns=found.in_campaigns + sum(1 for r in mine if r["held"] is not None),
                    reached=found.reached + sum(1 for r in mine if r["reached"] == 1))
