"""Campaigns and the per-campaign work on each account (the join row)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model

from outboundql.classifiers import ReplyClass
from outboundql.enums import (
    AudienceSyncStatus,
    CampaignStatus,
    ExecutionState,
    ExecutionStatus,
    GoalOutcome,
    OutreachStatus,
    ReviewStatus,
    ScoringStatus,
)
from outboundql.models.base import ProjectScopedModel, TimestampedModel

if TYPE_CHECKING:
    from tortoise.backends.base.client import BaseDBAsyncClient

    from outboundql.models.accounts import Account, Contact
    from outboundql.models.auth import User
    from outboundql.models.products import Product
    from outboundql.models.projects import Market


class Campaign(ProjectScopedModel):
    """One outbound initiative for exactly one product. Cached stats are kept exact by writers."""

    product: fields.ForeignKeyRelation[Product] = fields.ForeignKeyField(
        "models.Product", related_name="campaigns", on_delete=fields.OnDelete.RESTRICT
    )
    product_id: int
    market: fields.ForeignKeyNullableRelation[Market] = fields.ForeignKeyField(
        "models.Market", related_name="campaigns", null=True, on_delete=fields.OnDelete.SET_NULL
    )
    market_id: int | None
    name = fields.CharField(max_length=200)
    slug = fields.CharField(max_length=100)
    description = fields.TextField(default="")
    keywords: fields.JSONField[list[str]] = fields.JSONField(default=list)
    goal_key = fields.CharField(max_length=64, default="sales")
    audience_config: fields.JSONField[dict[str, Any]] = fields.JSONField(default=dict)
    communication_language = fields.CharField(max_length=8, null=True)  # null = inherit from product
    status = fields.CharEnumField(CampaignStatus, max_length=20, default=CampaignStatus.DRAFT)
    archived_at = fields.DatetimeField(null=True)
    scoring_status = fields.CharEnumField(ScoringStatus, max_length=16, default=ScoringStatus.IDLE)
    scoring_error = fields.TextField(null=True)
    scoring_done = fields.IntField(default=0)
    scoring_total = fields.IntField(default=0)
    total_accounts = fields.IntField(default=0)
    scored_accounts = fields.IntField(default=0)
    approved_accounts = fields.IntField(default=0)
    outreached_accounts = fields.IntField(default=0)
    responded_accounts = fields.IntField(default=0)
    # Rows whose only score for the product is under another goal (`CampaignAccount.score_stale`).
    stale_score_count = fields.IntField(default=0)
    # Rows by their current-goal fit score (`CampaignAccount.ai_score`) in the bars [0, 1) … [9, 10].
    score_bucket_0 = fields.IntField(default=0)
    score_bucket_1 = fields.IntField(default=0)
    score_bucket_2 = fields.IntField(default=0)
    score_bucket_3 = fields.IntField(default=0)
    score_bucket_4 = fields.IntField(default=0)
    score_bucket_5 = fields.IntField(default=0)
    score_bucket_6 = fields.IntField(default=0)
    score_bucket_7 = fields.IntField(default=0)
    score_bucket_8 = fields.IntField(default=0)
    score_bucket_9 = fields.IntField(default=0)
    # The cadence settings as `outboundql.cadence.settings.Cadence.stored()` writes them; {} = the defaults.
    cadence: fields.JSONField[dict[str, Any]] = fields.JSONField(default=dict)
    execution_state = fields.CharEnumField(ExecutionState, max_length=16, default=ExecutionState.NOT_LIVE)
    live_at = fields.DatetimeField(null=True)
    outreach_started_at = fields.DatetimeField(null=True)  # when planning began (go-live, start_at, startOutreach)
    import_token = fields.CharField(max_length=64, null=True, unique=True)  # the local part of its import address
    import_sender = fields.CharField(max_length=254, null=True)  # the one From address whose mails are imported
    import_mapping: fields.JSONField[dict[str, str]] = fields.JSONField(default=dict)  # column → field, for mails
    reply_classifier = fields.CharField(max_length=64, null=True)  # the key of the one that classifies replies
    lose_on_not_interested = fields.BooleanField(default=True)  # a NOT_INTERESTED reply sets the row's outcome LOST
    add_inbound_contacts = fields.BooleanField(default=False)  # a new person's inbound adds them (inbound_contacts)
    created_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name=False, null=True, on_delete=fields.OnDelete.SET_NULL
    )
    created_by_id: int | None

    class Meta:
        table = "campaign"
        unique_together = (("project", "slug"),)
        indexes = [
            Index(fields=["project_id", "archived_at", "created_at"]),
            Index(fields=["project_id", "name"]),
            Index(fields=["product_id"]),
            Index(fields=["market_id"]),
        ]


class CampaignAccount(TimestampedModel):
    """An account's place in a campaign: review, outreach progress, override, chosen contact."""

    campaign: fields.ForeignKeyRelation[Campaign] = fields.ForeignKeyField(
        "models.Campaign", related_name="campaign_accounts", on_delete=fields.OnDelete.CASCADE
    )
    campaign_id: int
    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="campaign_accounts", on_delete=fields.OnDelete.CASCADE
    )
    account_id: int
    review_status = fields.CharEnumField(ReviewStatus, max_length=16, default=ReviewStatus.PENDING)
    reviewed_at = fields.DatetimeField(null=True)
    reviewed_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name=False, null=True, on_delete=fields.OnDelete.SET_NULL
    )
    reviewed_by_id: int | None
    outreach_status = fields.CharEnumField(OutreachStatus, max_length=16, default=OutreachStatus.NOT_STARTED)
    override_score = fields.FloatField(null=True)  # 0.0–10.0, one decimal
    # Kept by `outboundql.services.campaign_scores` in the transaction that writes a fit score or an override:
    # the current-goal fit score, whether the only score of the product is under another goal, and
    # COALESCE(override_score, ai_score), which the review list sorts by.
    ai_score = fields.FloatField(null=True)
    score_stale = fields.BooleanField(default=False)
    effective_score = fields.FloatField(null=True)
    contact: fields.ForeignKeyNullableRelation[Contact] = fields.ForeignKeyField(
        "models.Contact", related_name=False, null=True, on_delete=fields.OnDelete.SET_NULL
    )
    contact_id: int | None
    # name/title/email/linkedin when picked
    contact_snapshot: fields.JSONField[dict[str, Any] | None] = fields.JSONField(null=True)
    notes = fields.TextField(default="")
    execution_status = fields.CharEnumField(ExecutionStatus, max_length=24, default=ExecutionStatus.NOT_PLANNED)
    execution_disabled = fields.BooleanField(default=False)
    goal_outcome = fields.CharEnumField(GoalOutcome, max_length=16, default=GoalOutcome.OPEN)
    attempts_made = fields.IntField(default=0)  # executed attempts of the current plan
    plan_round = fields.IntField(default=1)  # the row's plan, counted: a reset or a rejection starts the next
    # The class of the thread's latest classified inbound message (what the inbox filters and counts by).
    reply_class = fields.CharEnumField(ReplyClass, max_length=16, null=True)
    # An out-of-office reply's return: no attempt of the row is due before it (`outboundql.services.reply_effects`).
    paused_until = fields.DatetimeField(null=True)
    # True: added by the campaign's audience (`outboundql.services.audiences`), released when it stops matching
    # unless someone worked on it; null: added otherwise (by hand, an import, an inbound contact).
    via_audience = fields.BooleanField(null=True)
    # Kept by the database from the thread's messages (`outboundql.models.triggers`), what the inbox sorts by: how
    # much the thread asks of a person (3 awaiting our reply: they wrote last; 2 unsent drafts; 1 answered: we wrote
    # after their latest; 0 nothing to look at), and since when (the latest inbound; the latest draft at level 2;
    # when the row was added at level 0).
    attention_level = fields.SmallIntField(default=0)
    attention_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "campaign_account"
        unique_together = (("campaign", "account"),)
        indexes = [
            Index(fields=["campaign_id", "review_status"]),
            Index(fields=["campaign_id", "outreach_status"]),
            Index(fields=["campaign_id", "execution_status"]),
            Index(fields=["campaign_id", "reply_class"]),
            Index(fields=["account_id"]),
            Index(fields=["campaign_id", "effective_score", "id"]),  # the review list, best first
            Index(fields=["campaign_id", "created_at", "id"]),  # the review list by date added
            Index(fields=["campaign_id", "attention_level", "attention_at", "id"]),  # the inbox
        ]

    async def save(self, using_db: BaseDBAsyncClient | None = None, update_fields: Iterable[str] | None = None,
                   force_create: bool = False, force_update: bool = False) -> None:
        """Save as the ORM does, except that a row read before never writes back the columns the database keeps
        (a stale copy would undo what a message written meanwhile set)."""
        if update_fields is None and self._saved_in_db:
            update_fields = [name for name in self._meta.fields_db_projection
                             if name not in DATABASE_KEPT and name != self._meta.pk_attr]
        await super().save(using_db, update_fields, force_create, force_update)


DATABASE_KEPT = frozenset({"attention_level", "attention_at"})
"""`CampaignAccount` columns only the database's triggers write."""


class CampaignAccountTag(Model):
    """A tag on a campaign account (a row each, so tag filters use an index on every database)."""

    id = fields.IntField(primary_key=True)
    campaign_account: fields.ForeignKeyRelation[CampaignAccount] = fields.ForeignKeyField(
        "models.CampaignAccount", related_name="tag_rows", on_delete=fields.OnDelete.CASCADE
    )
    campaign_account_id: int
    campaign: fields.ForeignKeyRelation[Campaign] = fields.ForeignKeyField(
        "models.Campaign", related_name=False, on_delete=fields.OnDelete.CASCADE
    )
    campaign_id: int
    tag = fields.CharField(max_length=100)

    class Meta:
        table = "campaign_account_tag"
        unique_together = (("campaign_account", "tag"),)
        indexes = [Index(fields=["campaign_id", "tag"])]


class AudienceSync(ProjectScopedModel):
    """One filling of a campaign from its audience (`outboundql.services.audiences`): its progress and what it did.
    A large audience runs as a job; ``active_campaign_id`` (unique) lets one sync per campaign run at a time."""

    campaign: fields.ForeignKeyRelation[Campaign] = fields.ForeignKeyField(
        "models.Campaign", related_name="audience_syncs", on_delete=fields.OnDelete.CASCADE
    )
    campaign_id: int
    active_campaign_id = fields.IntField(null=True, unique=True)  # the campaign while queued or running
    status = fields.CharEnumField(AudienceSyncStatus, max_length=16, default=AudienceSyncStatus.QUEUED)
    trigger = fields.CharField(max_length=16, default="manual")  # manual | automatic
    total = fields.IntField(default=0)  # accounts the audience matched
    done = fields.IntField(default=0)  # of them, gone through the guardrails so far
    added = fields.IntField(default=0)
    already_present = fields.IntField(default=0)
    removed = fields.IntField(default=0)  # rows released: no longer matching, nobody worked on them
    kept = fields.IntField(default=0)  # rows no longer matching that stay because someone worked on them
    #: Refused accounts grouped like a bulk add: [{reason, status, count, account_ids, message, override_flag}]
    blocked: fields.JSONField[list[dict[str, Any]]] = fields.JSONField(default=list)
    error = fields.TextField(null=True)
    heartbeat_at = fields.DatetimeField(null=True)  # moved by the running job; a stale one is taken over
    finished_at = fields.DatetimeField(null=True)
    created_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name=False, null=True, on_delete=fields.OnDelete.SET_NULL
    )
    created_by_id: int | None

    class Meta:
        table = "audience_sync"
        indexes = [Index(fields=["campaign_id", "created_at"])]
