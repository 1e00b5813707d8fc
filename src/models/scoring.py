"""AI fit scores and the runs that make them. A score lives on the product, not the campaign."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model

from outboundql.enums import Band, ScoringItemState, ScoringStatus
from outboundql.models.base import ProjectScopedModel

if TYPE_CHECKING:
    from outboundql.models.accounts import Account
    from outboundql.models.auth import User
    from outboundql.models.campaigns import Campaign
    from outboundql.models.products import Product


class FitScore(ProjectScopedModel):
    """Fit of one account for one (product, goal). Unique on (product, goal, account)."""

    product: fields.ForeignKeyRelation[Product] = fields.ForeignKeyField(
        "models.Product", related_name="fit_scores", on_delete=fields.OnDelete.CASCADE
    )
    product_id: int
    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="fit_scores", on_delete=fields.OnDelete.CASCADE
    )
    account_id: int
    goal_key = fields.CharField(max_length=64)
    score = fields.FloatField()  # 0.0–10.0, one decimal; a float so SQL compares and sorts it on SQLite too
    band = fields.CharEnumField(Band, max_length=16)
    justifications: fields.JSONField[list[dict[str, str]]] = fields.JSONField(default=list)  # [{kind, criterion, text}]
    persona_version = fields.IntField(default=0)
    scorer = fields.CharField(max_length=32)
    model = fields.CharField(max_length=100, null=True)

    class Meta:
        table = "fit_score"
        unique_together = (("product", "goal_key", "account"),)
        indexes = [
            Index(fields=["account_id", "product_id", "updated_at"]),
            Index(fields=["product_id", "goal_key", "score"]),
        ]


class ScoringRun(ProjectScopedModel):
    """One scoring job over a campaign's accounts. The database, not the broker, is its truth:
    the work set is fixed in `ScoringRunItem` rows when the run starts, so a run interrupted by a
    crash resumes exactly where it was."""

    campaign: fields.ForeignKeyRelation[Campaign] = fields.ForeignKeyField(
        "models.Campaign", related_name="scoring_runs", on_delete=fields.OnDelete.CASCADE
    )
    campaign_id: int
    product: fields.ForeignKeyRelation[Product] = fields.ForeignKeyField(
        "models.Product", related_name=False, on_delete=fields.OnDelete.CASCADE
    )
    product_id: int
    goal_key = fields.CharField(max_length=64)
    scorer = fields.CharField(max_length=32)
    force = fields.BooleanField(default=False)
    language = fields.CharField(max_length=8, default="en")
    persona_version = fields.IntField(default=0)
    # [[account_id, approved]] given to the scorer (feedback loop)
    examples: fields.JSONField[list[list[Any]]] = fields.JSONField(default=list)
    status = fields.CharEnumField(ScoringStatus, max_length=16, default=ScoringStatus.RUNNING)
    # Set to the campaign's id while the run is active, NULL once it ends: a unique column, so the
    # database itself refuses a second active run of one campaign.
    active_campaign_id = fields.IntField(null=True, unique=True)
    total = fields.IntField(default=0)
    done = fields.IntField(default=0)
    failed = fields.IntField(default=0)
    error = fields.TextField(null=True)
    resumed_at = fields.DatetimeField(null=True)
    finished_at = fields.DatetimeField(null=True)
    created_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name=False, null=True, on_delete=fields.OnDelete.SET_NULL
    )
    created_by_id: int | None

    class Meta:
        table = "scoring_run"
        indexes = [Index(fields=["campaign_id", "created_at"]), Index(fields=["status"])]


class ScoringRunItem(Model):
    """An account a run must score, in the batch (job message) that carries it."""

    id = fields.IntField(primary_key=True)
    run: fields.ForeignKeyRelation[ScoringRun] = fields.ForeignKeyField(
        "models.ScoringRun", related_name="items", on_delete=fields.OnDelete.CASCADE
    )
    run_id: int
    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name=False, on_delete=fields.OnDelete.CASCADE
    )
    account_id: int
    batch = fields.IntField()
    state = fields.CharEnumField(ScoringItemState, max_length=16, default=ScoringItemState.PENDING)
    error = fields.TextField(null=True)

    class Meta:
        table = "scoring_run_item"
        unique_together = (("run", "account"),)
        indexes = [Index(fields=["run_id", "batch", "state"])]
