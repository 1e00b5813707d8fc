"""Campaigns: one outbound initiative for one product and one goal."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry import relay

from outboundql import enums, models
from outboundql.errors import NotFound
from outboundql.gql.base import ProjectNode, input_data, mutation, pk_of
from outboundql.gql.context import Info
from outboundql.gql.enums import CampaignStatus, Direction, ScoringStatus
from outboundql.gql.errors import UserError
from outboundql.gql.goals import GoalType, goal_type
from outboundql.gql.pagination import CountedConnection
from outboundql.gql.products import Persona, Product
from outboundql.services import campaign_stats, events
from outboundql.services import campaigns as campaigns_service

if TYPE_CHECKING:
    from outboundql.gql.campaign_accounts import (
        CampaignAccountConnection,
        CampaignAccountFilter,
        CampaignAccountOrder,
    )
    from outboundql.gql.expenses import CampaignCosts, Expense
    from outboundql.gql.markets import Market

_ca = "outboundql.gql.campaign_accounts"
CampaignAccountConnectionRef = Annotated["CampaignAccountConnection", strawberry.lazy(_ca)]
CampaignAccountFilterRef = Annotated["CampaignAccountFilter", strawberry.lazy(_ca)]
CampaignAccountOrderRef = Annotated["CampaignAccountOrder", strawberry.lazy(_ca)]
MarketRef = Annotated["Market", strawberry.lazy("outboundql.gql.markets")]
ExpenseRef = Annotated["Expense", strawberry.lazy("outboundql.gql.expenses")]
CampaignCostsRef = Annotated["CampaignCosts", strawberry.lazy("outboundql.gql.expenses")]

if TYPE_CHECKING:
    from outboundql.gql.scoring import ScoringRun


@strawberry.type(description="Progress of the scoring job.")
class ScoringProgress:
    done: int
    total: int


@strawberry.type(description="One bar of the fit-score histogram: scores in [from, to), the last bar [9, 10].")
class ScoreBucket:
    from_: float = strawberry.field(name="from")
    to: float
    count: int


@strawberry.type(description="How the campaign reaches its accounts: a saved filter, or accounts added by hand.")
class Audience:
    kind: str = strawberry.field(description="`manual` or `saved_filter`.")
    saved_filter_id: relay.GlobalID | None


@strawberry.type(description="One outbound initiative against a list of accounts, for one product and one goal.")
class Campaign(ProjectNode):
    id: relay.NodeID[int]
    name: str
    slug: str = strawberry.field(description="From the name, unique in the project (collisions get -2, -3…).")
    description: str
    keywords: list[str]
    status: CampaignStatus = strawberry.field(description="Workflow hint set by people; never enforced.")
    scoring_status: ScoringStatus = strawberry.field(
        description="State of the latest scoring run: IDLE before the first, then RUNNING, COMPLETED or FAILED.")
    scoring_error: str | None = strawberry.field(description="Why the last scoring run failed, when it did.")
    communication_language: str | None = strawberry.field(description="Null: inherit from the product.")
    total_accounts: int = strawberry.field(description="Accounts in the campaign (cached counter, exact).")
    scored_accounts: int = strawberry.field(description="Accounts with a fit score for this product and goal.")
    approved_accounts: int = strawberry.field(description="Rows reviewed APPROVED.")
    outreached_accounts: int = strawberry.field(description="Rows whose outreach is SENT, BOUNCED or RESPONDED.")
    responded_accounts: int = strawberry.field(description="Rows whose outreach is RESPONDED.")
    archived_at: datetime | None = strawberry.field(description="Set while archived (hidden from default lists).")
    created_at: datetime
    updated_at: datetime
    row: strawberry.Private[models.Campaign]
    node_model = models.Campaign

    @strawberry.field(description="Why this campaign reaches out.")
    def goal(self, info: Info) -> GoalType:
        return goal_type(info, self.row.goal_key)

    @strawberry.field(description="Accounts processed / in the work set of the latest scoring run.")
    def scoring_progress(self) -> ScoringProgress:
        return ScoringProgress(done=self.row.scoring_done, total=self.row.scoring_total)

    @strawberry.field(description="The most recent scoring runs, newest first (at most 50).")
    async def scoring_runs(
        self, info: Info, limit: int = 10,
    ) -> list[Annotated[ScoringRun, strawberry.lazy("outboundql.gql.scoring")]]:
        from outboundql.gql.scoring import ScoringRun

        rows = await info.context.loaders.scoring_runs_by_campaign_id.load(self.row.id)
        return [ScoringRun.from_model(r) for r in rows[:max(0, min(limit, 50))]]

    @strawberry.field(description="responded / outreached; 0 when nothing was sent.")
    def response_rate(self) -> float:
        return campaign_stats.response_rate(self.row)

    @strawberry.field
    async def product(self, info: Info) -> Product:
        return Product.from_model(await info.context.loaders.product_by_id.load(self.row.product_id))

    @strawberry.field(description="The persona of (product, goal): this campaign's ICP. Read-only here.")
    async def icp(self, info: Info) -> Persona | None:
        rows = await info.context.loaders.personas_by_product_id.load(self.row.product_id)
        return next((Persona.from_model(p) for p in rows if p.goal_key == self.row.goal_key), None)

    @strawberry.field(description="The language generated text uses: the campaign's, else the product's, "
                      "else yours, else English.")
    async def effective_language(self, info: Info) -> str:
        product = await info.context.loaders.product_by_id.load(self.row.product_id)
        return campaigns_service.effective_language(self.row, product, info.context.access.user)

    @strawberry.field
    async def market(self, info: Info) -> Annotated[Market, strawberry.lazy("outboundql.gql.markets")] | None:
        from outboundql.gql.markets import Market

        if self.row.market_id is None:
            return None
        row = await info.context.loaders.market_by_id.load(self.row.market_id)
        return Market.from_model(row) if row else None

    @strawberry.field
    def audience(self) -> Audience:
        config = self.row.audience_config or {}
        filter_id = config.get("filter_id")
        return Audience(kind=config.get("kind", "manual"),
                        saved_filter_id=relay.GlobalID("SavedFilter", str(filter_id)) if filter_id else None)

    @strawberry.field(description="Accounts whose only score for this product is under another goal: "
                      "rescore to refresh them.")
    async def stale_score_count(self, info: Info) -> int:
        return await info.context.loaders.stale_count_by_campaign.load(self.row)

    @strawberry.field(description="Histogram of this goal's fit scores of the campaign's accounts, 10 buckets.")
    async def score_distribution(self, info: Info) -> list[ScoreBucket]:
        counts = await info.context.loaders.score_buckets_by_campaign_id.load(self.row.id)
        return [ScoreBucket(from_=float(i), to=float(i + 1), count=counts[i]) for i in range(10)]

    @strawberry.field(description="The campaign's accounts, filtered and sorted (default: effective score, "
                      "best first); "
                      "first/last at most OUTBOUNDQL_MAX_PAGE_SIZE (100 by default; more is a PAGE_TOO_LARGE "
                      "error), a full page when neither is given.")
    async def accounts(
        self, info: Info, filter: CampaignAccountFilterRef | None = None,
        order_by: CampaignAccountOrderRef | None = None, first: int | None = None, after: str | None = None,
        last: int | None = None, before: str | None = None,
    ) -> CampaignAccountConnectionRef:
        from outboundql.gql.campaign_accounts import resolve_campaign_accounts

        return await resolve_campaign_accounts(info, self.row, filter, order_by, first, after, last, before)

    @strawberry.field(description="Money spent on this campaign, most recent first.")
    async def expenses(self, info: Info) -> list[ExpenseRef]:
        from outboundql.gql.expenses import Expense

        return [Expense.from_model(e) for e in await info.context.loaders.expenses_by_campaign_id.load(self.row.id)]

    @strawberry.field(description="What outcomes cost: totals per currency, cost per outreached, responded and "
                      "customer account (a ratio only when one currency is used, else a reason), and paid API "
                      "usage in USD beside it.")
    async def costs(self, info: Info) -> CampaignCostsRef:
        from outboundql.gql.expenses import CampaignCosts

        return CampaignCosts.from_costs(await info.context.loaders.costs_by_campaign.load(self.row))

    @strawberry.field(description="Threads that need a person, by attention: those awaiting our reply (their "
                      "message came last; most recent first), then those with unsent drafts (newest draft "
                      "first), then conversations we already answered (most recent inbound first). "
                      "first/last at most OUTBOUNDQL_MAX_PAGE_SIZE.")
    async def inbox(self, info: Info, first: int | None = None, after: str | None = None, last: int | None = None,
                    before: str | None = None) -> CampaignAccountConnectionRef:
        from outboundql.gql.campaign_accounts import CampaignAccountConnection
        from outboundql.services.inbox import inbox

        result = CampaignAccountConnection.resolve_connection(inbox(self.row.id), info=info, first=first,
                                                              after=after, last=last, before=before)
        return await result if hasattr(result, "__await__") else result


@strawberry.type
class CampaignConnection(CountedConnection[Campaign]):
    @classmethod
    def resolve_node(cls, node: models.Campaign, *, info: Info, **kwargs: Any) -> Campaign:
        return Campaign.from_model(node)


@strawberry.input
class CampaignFilter:
    include_archived: bool = False
    statuses: list[CampaignStatus] | None = None
    goals: list[str] | None = strawberry.field(default=None, description="Goal keys, e.g. `sales`.")
    product_id: relay.GlobalID | None = None
    market_id: relay.GlobalID | None = None
    search: str | None = strawberry.field(default=None, description="Part of the campaign's name.")


@strawberry.enum
class CampaignOrderField(enum.Enum):
    NAME = "name"
    CREATED_AT = "created_at"
    UPDATED_AT = "updated_at"


@strawberry.input
class CampaignOrder:
    field: CampaignOrderField = CampaignOrderField.CREATED_AT
    direction: Direction = Direction.DESC


async def resolve_campaigns(info: Info, project_id: int, flt: CampaignFilter | None, order: CampaignOrder | None,
                            **page: Any) -> CampaignConnection:
    info.context.access.require(project_id)
    data = input_data(flt) if flt else {}
    for key, type_name in (("product_id", "Product"), ("market_id", "Market")):
        if data.get(key) is not None:
            try:
                data[key] = pk_of(data[key], type_name, key)
            except NotFound:  # an id of another type matches nothing
                data[key] = -1
    qs = campaigns_service.filter_campaigns(models.Campaign.filter(project_id=project_id), data)
    order = order or CampaignOrder()
    sign = "-" if order.direction is Direction.DESC else ""
    qs = qs.order_by(f"{sign}{order.field.value}", f"{sign}id")
    result = CampaignConnection.resolve_connection(qs, info=info, **page)
    return await result if hasattr(result, "__await__") else result


@strawberry.input(description="Name and product are required; the goal defaults to sales.")
class CreateCampaignInput:
    project_id: relay.GlobalID
    product_id: relay.GlobalID
    name: str
    goal: str = "sales"
    description: str = ""
    keywords: list[str] = strawberry.field(default_factory=list)
    communication_language: str | None = strawberry.field(default=None, description="Null: inherit from the product.")
    market_id: relay.GlobalID | None = None
    status: CampaignStatus = enums.CampaignStatus.DRAFT
    audience: AudienceInput | None = None


@strawberry.input(description="`kind: saved_filter` needs `savedFilterId`.")
class AudienceInput:
    kind: str = "manual"
    saved_filter_id: relay.GlobalID | None = None


@strawberry.input(description="Only the fields given change.")
class UpdateCampaignInput:
    id: relay.GlobalID
    name: str | None = strawberry.UNSET
    goal: str | None = strawberry.field(default=strawberry.UNSET, description="Switching keeps every score; "
                                        "`staleScoreCount` then shows what to rescore.")
    description: str | None = strawberry.UNSET
    keywords: list[str] | None = strawberry.UNSET
    communication_language: str | None = strawberry.UNSET
    market_id: relay.GlobalID | None = strawberry.UNSET
    status: CampaignStatus | None = strawberry.UNSET
    audience: AudienceInput | None = strawberry.UNSET


@strawberry.input
class CampaignIdInput:
    id: relay.GlobalID


@strawberry.input
class DeleteCampaignInput:
    id: relay.GlobalID
    confirm_name: str = strawberry.field(description="The campaign's name, typed back.")


@strawberry.type
class CampaignPayload:
    campaign: Campaign | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class DeleteCampaignPayload:
    deleted_campaign_id: relay.GlobalID | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


def _campaign_data(input: Any) -> dict[str, Any]:
    data = input_data(input, exclude=["id", "project_id", "product_id", "goal", "market_id", "audience"])
    if getattr(input, "goal", strawberry.UNSET) is not strawberry.UNSET:
        data["goal_key"] = input.goal
    if input.market_id is not strawberry.UNSET:
        data["market_id"] = None if input.market_id is None else _pk_or_missing(input.market_id, "Market")
    if input.audience is not strawberry.UNSET:
        audience = input.audience
        data["audience"] = None if audience is None else {
            "kind": audience.kind,
            "saved_filter_id": None if audience.saved_filter_id is None
            else _pk_or_missing(audience.saved_filter_id, "SavedFilter"),
        }
    return data


def _pk_or_missing(gid: relay.GlobalID, type_name: str) -> int:
    from outboundql.errors import NotFound

    try:
        return pk_of(gid, type_name, "input")
    except NotFound:
        return -1  # looked up in the project, and reported there as not found


@strawberry.type
class CampaignMutations:
    @mutation("Create a campaign for a product. Its slug comes from the name; its goal's persona is derived "
              "as a draft if the product has none for that goal.")
    async def create_campaign(self, info: Info, input: CreateCampaignInput) -> CampaignPayload:
        row = await campaigns_service.create_campaign(
            info.context.access, pk_of(input.project_id, "Project", "input.projectId"),
            pk_of(input.product_id, "Product", "input.productId"), _campaign_data(input), info.context.goals,
        )
        await events.publish_campaign_event(row.id, "campaign_updated")
        return CampaignPayload(campaign=Campaign.from_model(row))

    @mutation("Rename, switch goal (scores are kept), move market, change the status hint, language, "
              "description, keywords or audience.")
    async def update_campaign(self, info: Info, input: UpdateCampaignInput) -> CampaignPayload:
        row = await campaigns_service.update_campaign(
            info.context.access, pk_of(input.id, "Campaign", "input.id"), _campaign_data(input), info.context.goals
        )
        await events.publish_campaign_event(row.id, "campaign_updated")
        return CampaignPayload(campaign=Campaign.from_model(row))

    @mutation("Hide a campaign from the default list; everything under it is kept.")
    async def archive_campaign(self, info: Info, input: CampaignIdInput) -> CampaignPayload:
        row = await campaigns_service.set_archived(info.context.access, pk_of(input.id, "Campaign", "input.id"), True)
        await events.publish_campaign_event(row.id, "campaign_updated")
        return CampaignPayload(campaign=Campaign.from_model(row))

    @mutation("Show an archived campaign again.")
    async def unarchive_campaign(self, info: Info, input: CampaignIdInput) -> CampaignPayload:
        row = await campaigns_service.set_archived(info.context.access, pk_of(input.id, "Campaign", "input.id"), False)
        await events.publish_campaign_event(row.id, "campaign_updated")
        return CampaignPayload(campaign=Campaign.from_model(row))

    @mutation("Delete a campaign and its own rows (never accounts or scores). Type its name back to confirm.")
    async def delete_campaign(self, info: Info, input: DeleteCampaignInput) -> DeleteCampaignPayload:
        row_id = pk_of(input.id, "Campaign", "input.id")
        await campaigns_service.delete_campaign(info.context.access, row_id, input.confirm_name)
        await events.publish_campaign_event(row_id, "campaign_updated")
        return DeleteCampaignPayload(deleted_campaign_id=relay.GlobalID("Campaign", str(row_id)))
