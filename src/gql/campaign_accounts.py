"""Campaign accounts: the per-campaign work on each account, and what changes it."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import strawberry
from strawberry import relay
from strawberry.scalars import JSON

from outboundql import enums, models
from outboundql.errors import NotFound
from outboundql.gql.accounts import Account, Contact
from outboundql.gql.base import ProjectNode, input_data, mutation, pk_of
from outboundql.gql.campaigns import Campaign
from outboundql.gql.context import Info
from outboundql.gql.enums import Band, Direction, OutreachStatus, ReviewStatus
from outboundql.gql.errors import UserError, to_user_error
from outboundql.gql.goals import GoalType, goal_type
from outboundql.gql.guardrails import BlockedAccounts, GuardrailExplanation, GuardrailOverrides
from outboundql.gql.messages import Message
from outboundql.gql.pagination import CountedConnection
from outboundql.gql.permissions import IsAuthenticated
from outboundql.services import campaign_accounts as ca_service
from outboundql.services import events
from outboundql.services.campaign_account_queries import band_of, filter_rows, ordered


@strawberry.type(description="One typed reason of a fit score, naming the rubric criterion.")
class Justification:
    kind: str = strawberry.field(description="`fit`, `gap`, `risk` or `missing_data`.")
    criterion: str
    text: str


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
                                                 text=j.get("text", "")) for j in row.justifications or []])


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
    created_at: datetime = strawberry.field(description="When the account was added to the campaign.")
    row: strawberry.Private[models.CampaignAccount]
    node_model = models.CampaignAccount
    node_project_field = "campaign__project_id"

    @strawberry.field
    async def campaign(self, info: Info) -> Campaign:
        return Campaign.from_model(await info.context.loaders.campaign_by_id.load(self.row.campaign_id))

    @strawberry.field
    async def account(self, info: Info) -> Account:
        return Account.from_model(await info.context.loaders.account_by_id.load(self.row.account_id))

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
    async def ai_score(self, info: Info) -> FitScore | None:
        campaign = await info.context.loaders.campaign_by_id.load(self.row.campaign_id)
        assert campaign is not None
        scores = await info.context.loaders.scores_by_product_account.load((campaign.product_id, self.row.account_id))
        current = next((s for s in scores if s.goal_key == campaign.goal_key), None)
        if current is not None:
            return FitScore.from_model(current, stale=False)
        return FitScore.from_model(scores[0], stale=True) if scores else None

    @strawberry.field(description="The thread: every message and call on this campaign account, oldest first "
                      "by when it was sent or received (a draft: written).")
    async def messages(self, info: Info) -> list[Message]:
        rows = await info.context.loaders.messages_by_campaign_account_id.load(self.row.id)
        return [Message.from_model(m) for m in rows]

    @strawberry.field(description="What the thread holds that needs a person: last inbound, unsent drafts.")
    async def attention(self, info: Info) -> ThreadAttention:
        fact = await info.context.loaders.attention_by_campaign_account_id.load(self.row.id)
        return ThreadAttention(last_inbound_at=fact.last_inbound_at, unsent_drafts=fact.unsent_drafts,
                               last_message_at=fact.last_message_at, awaiting_reply=fact.awaiting_reply)

    @strawberry.field(description="The override when set, else the current-goal AI score.")
    async def effective_score(self, info: Info) -> float | None:
        if self.row.override_score is not None:
            return float(self.row.override_score)
        score = await self.ai_score(info)
        return None if score is None or score.stale else score.score

    @strawberry.field(description="Band of the effective score.")
    async def band(self, info: Info) -> Band | None:
        return band_of(await self.effective_score(info))


@strawberry.type
class CampaignAccountConnection(CountedConnection[CampaignAccount]):
    @classmethod
    def resolve_node(cls, node: models.CampaignAccount, *, info: Info, **kwargs: Any) -> CampaignAccount:
        return CampaignAccount.from_model(node)


@strawberry.input(description="All conditions must hold; lists match any of their values.")
class CampaignAccountFilter:
    bands: list[Band] | None = strawberry.field(default=None, description="By effective score.")
    scored: bool | None = strawberry.field(default=None, description="Has an effective score (or not).")
    review_statuses: list[ReviewStatus] | None = None
    outreach_statuses: list[OutreachStatus] | None = None
    tags: list[str] | None = None
    search: str | None = strawberry.field(default=None, description="Part of the account's name or domain.")
    stale: bool | None = strawberry.field(default=None, description="Only scored under another goal (or not).")


@strawberry.enum
class CampaignAccountOrderField(enum.Enum):
    EFFECTIVE_SCORE = "effective_score"
    NAME = "name"
    ADDED_AT = "added_at"


@strawberry.input(description="Unscored rows always come last when sorting by score.")
class CampaignAccountOrder:
    field: CampaignAccountOrderField = CampaignAccountOrderField.EFFECTIVE_SCORE
    direction: Direction = Direction.DESC


async def resolve_campaign_accounts(
    info: Info, campaign: models.Campaign, flt: CampaignAccountFilter | None, order: CampaignAccountOrder | None,
    first: int | None, after: str | None, last: int | None, before: str | None,
) -> CampaignAccountConnection:
    order = order or CampaignAccountOrder()
    qs = ordered(filter_rows(campaign, input_data(flt) if flt else {}), order.field.value,
                 order.direction is Direction.DESC)
    result = CampaignAccountConnection.resolve_connection(qs, info=info, first=first, after=after, last=last,
                                                          before=before)
    return await result if hasattr(result, "__await__") else result


@strawberry.input(description="Add by ids or by a saved filter (one of the two).")
class AddAccountsToCampaignInput:
    campaign_id: relay.GlobalID
    account_ids: list[relay.GlobalID] | None = strawberry.field(default=None, description="At most 10,000.")
    saved_filter_id: relay.GlobalID | None = None
    overrides: GuardrailOverrides | None = None


@strawberry.type
class AddAccountsToCampaignPayload:
    campaign: Campaign | None = None
    added: int = 0
    already_present: int = 0
    blocked: list[BlockedAccounts] = strawberry.field(default_factory=list)
    not_found: list[relay.GlobalID] = strawberry.field(default_factory=list)
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.enum
class ReviewDecision(enum.Enum):
    APPROVED = "approved"
    REJECTED = "rejected"
    PENDING = "pending"


@strawberry.input
class ReviewCampaignAccountsInput:
    campaign_account_ids: list[relay.GlobalID] = strawberry.field(description="At most 10,000.")
    decision: ReviewDecision


@strawberry.type(description="The outcome for one id of a bulk change.")
class CampaignAccountResult:
    id: relay.GlobalID
    campaign_account: CampaignAccount | None
    errors: list[UserError]


@strawberry.type
class ReviewCampaignAccountsPayload:
    results: list[CampaignAccountResult] = strawberry.field(default_factory=list)
    changed_count: int = 0
    failed_count: int = 0
    errors: list[UserError] = strawberry.field(
        default_factory=list,
        description="Problems with the whole request, then each failed id's error (field "
        "`input.campaignAccountIds[i]`); the other ids are reviewed all the same.",
    )


@strawberry.input
class SetOverrideScoreInput:
    campaign_account_id: relay.GlobalID
    score: float | None = strawberry.field(description="0–10 (one decimal kept); null clears it.")


@strawberry.input(description="Only the fields given change.")
class UpdateCampaignAccountInput:
    id: relay.GlobalID
    tags: list[str] | None = strawberry.UNSET
    notes: str | None = strawberry.UNSET
    contact_id: relay.GlobalID | None = strawberry.field(default=strawberry.UNSET,
                                                         description="A contact of this account; null clears it.")
    outreach_status: OutreachStatus | None = strawberry.field(default=strawberry.UNSET,
                                                              description="Only forward moves are accepted.")


@strawberry.type
class CampaignAccountPayload:
    campaign_account: CampaignAccount | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


def _pk(gid: relay.GlobalID, type_name: str) -> int:
    try:
        return pk_of(gid, type_name, "input")
    except NotFound:
        return -1


@strawberry.type
class CampaignAccountMutations:
    @mutation("Add accounts to a campaign through its goal's guardrails, in one pass for up to 10,000 accounts. "
              "Answers what was added, what was already there, and what was blocked, grouped by reason.")
    async def add_accounts_to_campaign(self, info: Info, input: AddAccountsToCampaignInput
                                       ) -> AddAccountsToCampaignPayload:
        campaign_id = pk_of(input.campaign_id, "Campaign", "input.campaignId")
        ids = None if input.account_ids is None else [_pk(g, "Account") for g in input.account_ids]
        saved_filter = None if input.saved_filter_id is None else pk_of(input.saved_filter_id, "SavedFilter",
                                                                        "input.savedFilterId")
        result = await ca_service.add_accounts(info.context.access, campaign_id, ids, saved_filter,
                                               (input.overrides or GuardrailOverrides()).flags(), info.context.goals)
        campaign = await models.Campaign.get(id=campaign_id)
        if result.added:
            await events.publish_campaign_event(campaign_id, "accounts_changed")
        missing = set(result.not_found)
        not_found = [g for g, pk in zip(input.account_ids or [], ids or [], strict=True) if pk == -1 or pk in missing]
        return AddAccountsToCampaignPayload(
            campaign=Campaign.from_model(campaign), added=result.added, already_present=result.already_present,
            blocked=[BlockedAccounts.from_group(g) for g in result.blocked], not_found=not_found,
        )

    @mutation("Approve, reject or reset many campaign accounts; ids that fail are answered with why.")
    async def review_campaign_accounts(self, info: Info, input: ReviewCampaignAccountsInput
                                       ) -> ReviewCampaignAccountsPayload:
        ids = [_pk(g, "CampaignAccount") for g in input.campaign_account_ids]
        results = await ca_service.review(info.context.access, ids,
                                          enums.ReviewStatus(input.decision.value))
        by_id = {r.id: r for r in results}
        for campaign_id in sorted({r.row.campaign_id for r in results if r.row is not None and r.issue is None}):
            await events.publish_campaign_event(campaign_id, "accounts_changed")
        payload = ReviewCampaignAccountsPayload()
        seen: set[int] = set()
        for gid, pk in zip(input.campaign_account_ids, ids, strict=True):
            r = by_id[pk]
            errors = [to_user_error(r.issue)] if r.issue else []
            payload.results.append(CampaignAccountResult(
                id=gid, campaign_account=CampaignAccount.from_model(r.row) if r.row else None, errors=errors,
            ))
            if pk not in seen:  # each failed id once, at its first position
                payload.errors += errors
                seen.add(pk)
        payload.changed_count = sum(1 for r in payload.results if not r.errors)
        payload.failed_count = len(payload.results) - payload.changed_count
        return payload

    @mutation("Set or clear the score that supersedes the AI score in this campaign only.")
    async def set_override_score(self, info: Info, input: SetOverrideScoreInput) -> CampaignAccountPayload:
        row = await ca_service.set_override_score(
            info.context.access, pk_of(input.campaign_account_id, "CampaignAccount", "input.campaignAccountId"),
            input.score,
        )
        await events.publish_campaign_event(row.campaign_id, "accounts_changed")
        return CampaignAccountPayload(campaign_account=CampaignAccount.from_model(row))

    @mutation("Change tags, notes, the contact aimed at (its details are snapshotted) or the outreach status "
              "(forward only).")
    async def update_campaign_account(self, info: Info, input: UpdateCampaignAccountInput
                                      ) -> CampaignAccountPayload:
        data = input_data(input, exclude=["id", "contact_id"])
        if input.contact_id is not strawberry.UNSET:
            data["contact_id"] = None if input.contact_id is None else _pk(input.contact_id, "Contact")
        row = await ca_service.update_campaign_account(
            info.context.access, pk_of(input.id, "CampaignAccount", "input.id"), data
        )
        await events.publish_campaign_event(row.campaign_id, "accounts_changed")
        return CampaignAccountPayload(campaign_account=CampaignAccount.from_model(row))


@strawberry.type
class CampaignAccountQueries:
    @strawberry.field(permission_classes=[IsAuthenticated],
                      description="Dry run of add: would these accounts be admitted to this campaign, and why. "
                      "Changes nothing. At most 1000 ids (OUTBOUNDQL_MAX_BULK_ITEMS); null when the campaign "
                      "is not found.")
    async def explain_guardrails(self, info: Info, campaign_id: relay.GlobalID, account_ids: list[relay.GlobalID],
                                 overrides: GuardrailOverrides | None = None) -> GuardrailExplanation | None:
        from outboundql.gql.guardrails import explain

        try:
            campaign = await info.context.access.get(models.Campaign, pk_of(campaign_id, "Campaign", "campaignId"))
        except NotFound:
            return None
        return await explain(info, campaign.project_id, campaign.goal_key, account_ids, overrides)
