"""Markets: territories inside a project that group campaigns, with metrics rolled up from them."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry import relay
from strawberry.scalars import JSON

from outboundql import models
from outboundql.gql.base import ProjectNode, lazy_class, maybe, mutation, pk_of
from outboundql.gql.campaigns import Campaign
from outboundql.gql.context import Info
from outboundql.gql.errors import UserError
from outboundql.gql.idempotency import idempotency_key, replayed
from outboundql.gql.signals import SignalCount, summary
from outboundql.services import markets as markets_service

if TYPE_CHECKING:
    from outboundql.gql.accounts import AccountConnection

AccountConnectionRef = Annotated["AccountConnection", strawberry.lazy("outboundql.gql.accounts")]


@strawberry.type(description="How much of a market's candidate landscape its campaigns hold and have reached.")
class MarketCoverage:
    landscape: int = strawberry.field(description="Accounts in the landscape (matching the market's filters).")
    in_campaigns: int = strawberry.field(description="Of them, accounts in at least one of the market's campaigns.")
    reached: int = strawberry.field(description="Of them, accounts a campaign of the market reached out to "
                                    "(outreach SENT, BOUNCED or RESPONDED).")
    rate: float = strawberry.field(description="reached / landscape; 0 for an empty landscape.")


@strawberry.type(description="A territory inside a project (e.g. \"M&A — New York\"); campaigns may belong to one. "
                 "Its metrics are the sums of its campaigns' (archived campaigns included).")
class Market(ProjectNode):
    id: relay.NodeID[int]
    name: str
    slug: str = strawberry.field(description="From the name, unique in the project (collisions get -2, -3…).")
    description: str
    filters: JSON = strawberry.field(description="The territory: lists of account values by key (countries, cities, "
                                     "industries, languages, statuses, tags; all must hold), or a filter expression "
                                     "like a saved filter's. It defines `accounts`, and a campaign created in the "
                                     "market starts with it as its audience.")
    created_at: datetime
    row: strawberry.Private[models.Market]
    node_model = models.Market

    async def _metrics(self, info: Info) -> markets_service.MarketMetrics:
        metrics: markets_service.MarketMetrics = await info.context.loaders.market_metrics_by_id.load(self.row.id)
        return metrics

    @strawberry.field(description="Campaigns in this market.")
    async def campaign_count(self, info: Info) -> int:
        return (await self._metrics(info)).campaign_count

    @strawberry.field
    async def total_accounts(self, info: Info) -> int:
        return (await self._metrics(info)).total_accounts

    @strawberry.field
    async def scored_accounts(self, info: Info) -> int:
        return (await self._metrics(info)).scored_accounts

    @strawberry.field
    async def approved_accounts(self, info: Info) -> int:
        return (await self._metrics(info)).approved_accounts

    @strawberry.field
    async def outreached_accounts(self, info: Info) -> int:
        return (await self._metrics(info)).outreached_accounts

    @strawberry.field
    async def responded_accounts(self, info: Info) -> int:
        return (await self._metrics(info)).responded_accounts

    @strawberry.field(description="responded / outreached over the market's campaigns; 0 when nothing was sent.")
    async def response_rate(self, info: Info) -> float:
        return (await self._metrics(info)).response_rate

    @strawberry.field(description="The candidate landscape: the project's accounts the market's `filters` match "
                      "(territory keys like {\"countries\": [\"US\"], \"cities\": [\"New York\"]}, or a filter "
                      "expression), by id; empty when the filters name no territory. first/last at most "
                      "OUTBOUNDQL_MAX_PAGE_SIZE.")
    async def accounts(self, info: Info, first: int | None = None, after: str | None = None,
                       last: int | None = None, before: str | None = None) -> AccountConnectionRef:
        connection: type[AccountConnection] = lazy_class(AccountConnectionRef)
        landscape = markets_service.landscape_accounts(self.row)
        if landscape is None:
            nothing = models.Account.filter(project_id=self.row.project_id, id__in=[]).order_by("id")
            return await connection.page(nothing, info, first=first, after=after, last=last, before=before)
        return await connection.page(landscape.queryset().order_by("id"), info, first=first, after=after, last=last,
                                     before=before, keep=landscape.keep, count=landscape.count)

    @strawberry.field(description="The landscape against the market's campaigns: accounts in it, held by a "
                      "campaign of the market, and reached by one.")
    async def coverage(self, info: Info) -> MarketCoverage:
        c = await markets_service.coverage(self.row)
        return MarketCoverage(landscape=c.landscape, in_campaigns=c.in_campaigns, reached=c.reached, rate=c.rate)

    @strawberry.field(description="Confirmed signals of the market's campaigns by kind, most first: the "
                      "intelligence the market's conversations gathered.")
    async def signal_summary(self, info: Info) -> list[SignalCount]:
        return summary(await info.context.loaders.signal_counts_by_market_id.load(self.row.id))

    @strawberry.field(description="The market's campaigns, newest first; archived ones only when asked.")
    async def campaigns(self, info: Info, include_archived: bool = False) -> list[Campaign]:
        rows = await info.context.loaders.campaigns_by_market_id.load(self.row.id)
        return [Campaign.from_model(c) for c in rows if include_archived or c.archived_at is None]


@strawberry.input
class CreateMarketInput:
    project_id: relay.GlobalID
    name: str
    description: str = ""
    filters: JSON | None = strawberry.field(default=None, description="A JSON object describing the territory.")
    idempotency_key: str | None = idempotency_key("the first market")

    def to_command(self) -> markets_service.CreateMarket:
        return markets_service.CreateMarket(project_id=pk_of(self.project_id, "Project", "project_id"),
                                            name=self.name, description=self.description, filters=self.filters,
                                            idempotency_key=self.idempotency_key)


@strawberry.input(description="Only the fields given change; renaming re-derives the slug.")
class UpdateMarketInput:
    id: relay.GlobalID
    name: str | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    filters: JSON | None = strawberry.UNSET

    def to_command(self) -> markets_service.UpdateMarket:
        return markets_service.UpdateMarket(id=pk_of(self.id, "Market", "id"), name=maybe(self.name),
                                            description=maybe(self.description), filters=maybe(self.filters))


@strawberry.input
class DeleteMarketInput:
    id: relay.GlobalID


@strawberry.type
class MarketPayload:
    market: Market | None = None
    replayed: bool = replayed("createMarket")
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class DeleteMarketPayload:
    deleted_market_id: relay.GlobalID | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class MarketMutations:
    @mutation("Create a market. Assign campaigns to it with updateCampaign(marketId).")
    async def create_market(self, info: Info, input: CreateMarketInput) -> MarketPayload:
        result = await markets_service.create_market(info.context.access, input.to_command())
        return MarketPayload(market=Market.from_model(result.market), replayed=result.replayed)

    @mutation("Rename a market or change its description or filters.")
    async def update_market(self, info: Info, input: UpdateMarketInput) -> MarketPayload:
        result = await markets_service.update_market(info.context.access, input.to_command())
        return MarketPayload(market=Market.from_model(result.market))

    @mutation("Delete a market; its campaigns are kept, without a market.")
    async def delete_market(self, info: Info, input: DeleteMarketInput) -> DeleteMarketPayload:
        cmd = markets_service.DeleteMarket(id=pk_of(input.id, "Market", "id"))
        result = await markets_service.delete_market(info.context.access, cmd)
        return DeleteMarketPayload(deleted_market_id=relay.GlobalID("Market", str(result.market_id)))
