"""Campaign inputs: the list's filter and order, and the mutations' inputs, each with its service command."""

from __future__ import annotations

import enum
from typing import TypeVar

import strawberry
from strawberry import relay

from outboundql import enums
from outboundql.gql.base import maybe, pk_of, pk_or_none
from outboundql.gql.enums import CampaignStatus, Direction
from outboundql.gql.idempotency import idempotency_key
from outboundql.services import campaigns

T = TypeVar("T")


def _market_pk(gid: relay.GlobalID) -> int:
    return pk_of(gid, "Market", "market_id")


def _matching(gid: relay.GlobalID | None, type_name: str) -> tuple[int, ...] | None:
    """A filter id as the ids it matches: None for no condition, nothing for an id of another type."""
    if gid is None:
        return None
    pk = pk_or_none(gid, type_name)
    return () if pk is None else (pk,)


@strawberry.input
class CampaignFilter:
    include_archived: bool = False
    statuses: list[CampaignStatus] | None = None
    goals: list[str] | None = strawberry.field(default=None, description="Goal keys, e.g. `sales`.")
    product_id: relay.GlobalID | None = None
    market_id: relay.GlobalID | None = None
    search: str | None = strawberry.field(default=None, description="Part of the campaign's name.")

    def to_command(self) -> campaigns.CampaignFilter:
        return campaigns.CampaignFilter(
            include_archived=self.include_archived, statuses=self.statuses, goals=self.goals,
            product_ids=_matching(self.product_id, "Product"), market_ids=_matching(self.market_id, "Market"),
            search=self.search,
        )


@strawberry.enum
class CampaignOrderField(enum.Enum):
    NAME = "name"
    CREATED_AT = "created_at"
    UPDATED_AT = "updated_at"


@strawberry.input
class CampaignOrder:
    field: CampaignOrderField = CampaignOrderField.CREATED_AT
    direction: Direction = Direction.DESC

    def to_command(self) -> campaigns.CampaignOrder:
        return campaigns.CampaignOrder(field=self.field.value, descending=self.direction is Direction.DESC)


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
    idempotency_key: str | None = idempotency_key("the first campaign")

    def to_command(self) -> campaigns.CreateCampaign:
        return campaigns.CreateCampaign(
            project_id=pk_of(self.project_id, "Project", "project_id"),
            product_id=pk_of(self.product_id, "Product", "product_id"),
            name=self.name, goal=self.goal, description=self.description, keywords=tuple(self.keywords),
            communication_language=self.communication_language,
            market_id=None if self.market_id is None else _market_pk(self.market_id), status=self.status,
            audience=None if self.audience is None else self.audience.to_command(),
            idempotency_key=self.idempotency_key,
        )


@strawberry.input(description="`kind`: `manual`, `saved_filter` (needs `savedFilterId`) or `market` (the "
                  "campaign's market's filters). A campaign created in a market without an audience gets `market`.")
class AudienceInput:
    kind: str = "manual"
    saved_filter_id: relay.GlobalID | None = None
    auto_add: bool = strawberry.field(default=False, description="Fill the campaign as matching accounts are "
                                      "created, imported or change (syncCampaignAudience fills it on demand).")

    def to_command(self) -> campaigns.Audience:
        saved_filter_id = self.saved_filter_id
        return campaigns.Audience(
            kind=self.kind,
            saved_filter_id=None if saved_filter_id is None
            else pk_of(saved_filter_id, "SavedFilter", "audience.saved_filter_id", "Saved filter"),
            auto_add=self.auto_add,
        )


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
    reply_classifier: str | None = strawberry.field(
        default=strawberry.UNSET, description="The key of the classifier that reads this campaign's replies (see "
        "`classifiers`); null: the default one.")
    lose_on_not_interested: bool | None = strawberry.field(
        default=strawberry.UNSET, description="Whether a NOT_INTERESTED reply sets its account's goal outcome LOST "
        "(its plan stops either way).")
    add_inbound_contacts: bool | None = strawberry.field(
        default=strawberry.UNSET, description="Add new inbound contacts: a person not yet in the campaign who "
        "calls or messages through its `inboundUrl` is added (account and contact deduplicated) when the goal's "
        "guardrails admit them, the inbound logged on their row.")

    def to_command(self) -> campaigns.UpdateCampaign:
        return campaigns.UpdateCampaign(
            id=pk_of(self.id, "Campaign", "id"), name=maybe(self.name), goal=maybe(self.goal),
            description=maybe(self.description), keywords=maybe(self.keywords),
            communication_language=maybe(self.communication_language), market_id=maybe(self.market_id, _market_pk),
            status=maybe(self.status), audience=maybe(self.audience, AudienceInput.to_command),
            reply_classifier=maybe(self.reply_classifier),
            lose_on_not_interested=maybe(self.lose_on_not_interested),
            add_inbound_contacts=maybe(self.add_inbound_contacts),
        )


@strawberry.input
class CampaignIdInput:
    id: relay.GlobalID


@strawberry.input
class DeleteCampaignInput:
    id: relay.GlobalID
    confirm_name: str = strawberry.field(description="The campaign's name, typed back.")

    def to_command(self) -> campaigns.DeleteCampaign:
        return campaigns.DeleteCampaign(id=pk_of(self.id, "Campaign", "id"), confirm_name=self.confirm_name)
