"""AI fit scores. A score lives on the product, not the campaign."""

from tortoise import fields
from tortoise.indexes import Index

from outboundql.models.base import ProjectScopedModel
from outboundql.models.enums import Band


class FitScore(ProjectScopedModel):
    """Fit of one account for one (product, goal). Unique on (product, goal, account)."""

    product = fields.ForeignKeyField("models.Product", related_name="fit_scores", on_delete=fields.OnDelete.CASCADE)
    account = fields.ForeignKeyField("models.Account", related_name="fit_scores", on_delete=fields.OnDelete.CASCADE)
    goal_key = fields.CharField(max_length=64)
    score = fields.FloatField()  # 0.0–10.0, one decimal; a float so SQL compares and sorts it on SQLite too
    band = fields.CharEnumField(Band, max_length=16)
    justifications = fields.JSONField(default=list)  # [{kind, criterion, text}]
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
