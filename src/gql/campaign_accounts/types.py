"""Campaign accounts as GraphQL types: the per-campaign work on an account, its fit score and thread."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry import relay
from strawberry.scalars import JSON

from outboundql import models
from outboundql.gql.accounts import Account, Contact
from outboundql.gql.base import ProjectNode, asks, lazy_class
from outboundql.gql.context import Info
from outboundql.gql.enums import Band, GoalOutcome, OutreachStatus, ReviewStatus
from outboundql.gql.execution import CampaignAccountExecution, OutreachAttempt, attempts_of, execution_of
from outboundql.gql.goals import GoalType, goal_type
from outboundql.gql.loaders import then
from outboundql.gql.pagination import CountedConnection
from outboundql.services.campaign_account_queries import band_of

if TYPE_CHECKING:
    from outboundql.gql.campaigns import Campaign
    from outboundql.gql.messages import Message

# gql.campaigns and gql.messages import this package: their types are named lazily and resolved when a
# resolver first builds one, so either side can be imported first.
_CAMPAIGNS, _MESSAGES = "outboundql.gql.campaigns", "outboundql.gql.messages"
CampaignRef = Annotated["Campaign", strawberry.lazy(_CAMPAIGNS)]
MessageRef = Annotated["Message", strawberry.lazy(_MESSAGES)]


@strawberry.type(description="One typed reason of a fit score, naming the rubric criterion.")
class Justification:
    kind: str = strawberry.field(description="`fit`, `gap`, `risk` or `missing_data`; `component` for a named "
                                 "component of a score attached from outside (scorer `external`).")
    criterion: str = strawberry.field(description="The rubric criterion, or the component's name.")
    text: str
    value: float | None = strawberry.field(
        default=None, description="A component's value on 0.0–10.0 (one decimal); null for other kinds.")


@strawberry.type(description="An AI fit score of an account for a product and goal.")
class FitScore:
    score: float = strawberry.field(description="0.0–10.0, one decimal.")
    band: Band
    justifications: list[Justification]
    persona_version: int
    scorer: str
    model: str | None
    created_at: datetime = strawberry.field(description="When the account was first scored for this product and goal.")
    scored_at: datetime = strawberry.field(description="When this score was last computed (a rescore moves it).")
    stale: bool = strawberry.field(description="True when made under another goal than the campaign's.")
    goal_key: strawberry.Private[str]

    @strawberry.field
    def goal(self, info: Info) -> GoalType:
        return goal_type(info, self.goal_key)

    @classmethod
    def from_model(cls, row: models.FitScore, stale: bool) -> FitScore:
        return cls(score=float(row.score), band=row.band, persona_version=row.persona_version, scorer=row.scorer,
                   model=row.model, created_at=row.created_at, scored_at=row.updated_at, stale=stale,
                   goal_key=row.goal_key,
                   justifications=[Justification(kind=j.get("kind", ""), criterion=j.get("criterion", ""),
                                                 text=j.get("text", ""), value=_number(j.get("value")))
                                   for j in row.justifications or []])


def _number(value: Any) -> float | None:
    return None if value is None else float(value)


def ai_score_of(campaign: models.Campaign, scores: list[models.FitScore]) -> FitScore | None:
    """The campaign's AI score of an account among its ``scores`` for the campaign's product (newest first): the
    one under the campaign's goal, else the newest under another (stale)."""
    current = next((s for s in scores if s.goal_key == campaign.goal_key), None)
    if current is not None:
        return FitScore.from_model(current, stale=False)
    return FitScore.from_model(scores[0], stale=True) if scores else None


@strawberry.type(description="What a thread holds that a person should look at.")
class ThreadAttention:
    last_inbound_at: datetime | None = strawberry.field(description="When they last wrote or answered.")
    unsent_drafts: int = strawberry.field(description="Drafts on the thread not sent yet.")
    last_message_at: datetime | None
    awaiting_reply: bool = strawberry.field(description="Their message is the most recent sent one.")


@strawberry.type(description="An account's place in a campaign: review, outreach, override, chosen contact.")
class CampaignAccount(ProjectNode):
    id: relay.NodeID[int]
    review_status: ReviewStatus
    outreach_status: OutreachStatus
    override_score: float | None = strawberry.field(description="Supersedes the AI score in this campaign only.")
    notes: str
    contact_snapshot: JSON | None = strawberry.field(
        description="Name, title, e-mail and LinkedIn of the contact when it was picked."
    )
    reviewed_at: datetime | None
    goal_outcome: GoalOutcome = strawberry.field(description="Whether the account reached the campaign's goal.")
    created_at: datetime = strawberry.field(description="When the account was added to the campaign.")
    row: strawberry.Private[models.CampaignAccount]
    node_model = models.CampaignAccount
    node_project_field = "campaign__project_id"

    @strawberry.field
    async def campaign(self, info: Info) -> CampaignRef:
        campaign: type[Campaign] = lazy_class(CampaignRef)
        return campaign.from_model(await info.context.loaders.campaign_by_id.load(self.row.campaign_id))

    @strawberry.field
    def account(self, info: Info) -> Account:
        return then(info.context.loaders.account_by_id, self.row.account_id, Account.from_model)  # type: ignore[no-any-return]

    @strawberry.field(description="The contact the outreach is aimed at.")
    async def contact(self, info: Info) -> Contact | None:
        if self.row.contact_id is None:
            return None
        row = await info.context.loaders.contact_by_id.load(self.row.contact_id)
        return Contact.from_model(row) if row else None

    @strawberry.field
    async def tags(self, info: Info) -> list[str]:
        return [t.tag for t in await info.context.loaders.tags_by_campaign_account_id.load(self.row.id)]

    @strawberry.field(description="The fit score for the campaign's product and goal; else the product's most "
                      "recent score under another goal, marked stale; null when unscored.")
    def ai_score(self, info: Info) -> FitScore | None:
        loaders = info.context.loaders

        def of_campaign(campaign: models.Campaign | None) -> Any:
            assert campaign is not None
            return then(loaders.scores_by_product_account, (campaign.product_id, self.row.account_id),
                        lambda scores: ai_score_of(campaign, scores))

        return then(loaders.campaign_by_id, self.row.campaign_id, of_campaign)  # type: ignore[no-any-return]

    @strawberry.field(description="The thread: every message and call on this campaign account, oldest first "
                      "by when it was sent or received (a draft: written).")
    async def messages(self, info: Info) -> list[MessageRef]:
        rows = await info.context.loaders.messages_by_campaign_account_id.load(self.row.id)
        message: type[Message] = lazy_class(MessageRef)
        return [message.from_model(m) for m in rows]

    @strawberry.field(description="What the thread holds that needs a person: last inbound, unsent drafts.")
    async def attention(self, info: Info) -> ThreadAttention:
        fact = await info.context.loaders.attention_by_campaign_account_id.load(self.row.id)
        return ThreadAttention(last_inbound_at=fact.last_inbound_at, unsent_drafts=fact.unsent_drafts,
                               last_message_at=fact.last_message_at, awaiting_reply=fact.awaiting_reply)

    @strawberry.field(description="Where the account's outreach plan stands: status, attempts made / allowed, "
                      "the next attempt.")
    async def execution(self, info: Info) -> CampaignAccountExecution:
        return await execution_of(info, self.row)

    @strawberry.field(description="Outreach attempts of the account's plans, planned and made, newest first: the "
                      "most recent `limit` (at most OUTBOUNDQL_MAX_PAGE_SIZE; the campaign's `attempts` connection "
                      "pages through all of them).")
    async def attempts(self, info: Info, limit: int = 20) -> list[OutreachAttempt]:
        return await attempts_of(info, self.row, limit)

    @strawberry.field(description="The override when set, else the current-goal AI score.")
    def effective_score(self) -> float | None:
        return None if self.row.effective_score is None else float(self.row.effective_score)

    @strawberry.field(description="Band of the effective score.")
    def band(self) -> Band | None:
        return band_of(self.effective_score())


@strawberry.type
class CampaignAccountConnection(CountedConnection[CampaignAccount]):
    @classmethod
    async def load_ahead(cls, rows: list[models.CampaignAccount], info: Info) -> None:
        loaders = info.context.loaders
        for row in rows:
            account = row.__dict__.get("_account")
            if isinstance(account, models.Account):  # read with the page (select_related): no second query
                loaders.account_by_id.prime(account.id, account)
        if rows and asks(info, "edges", "node", "aiScore"):
            campaigns = await loaders.campaign_by_id.load_many(list({row.campaign_id for row in rows}))
            product_of = {c.id: c.product_id for c in campaigns if c is not None}
            await loaders.scores_by_product_account.load_many(
                [(product_of[row.campaign_id], row.account_id) for row in rows if row.campaign_id in product_of])

    @classmethod
    def resolve_node(cls, node: models.CampaignAccount, *, info: Info, **kwargs: Any) -> CampaignAccount:
        return CampaignAccount.from_model(node)
