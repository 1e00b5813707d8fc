"""What outcomes cost: campaign expenses and paid API usage."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model

from outboundql.enums import ExpenseKind, UsageOperation
from outboundql.models.base import ProjectScopedModel

if TYPE_CHECKING:
    from outboundql.models.accounts import Account
    from outboundql.models.auth import User
    from outboundql.models.campaigns import Campaign
    from outboundql.models.projects import Project


class Expense(ProjectScopedModel):
    """Money spent on a campaign. Amounts are exact decimals in one ISO 4217 currency."""

    campaign: fields.ForeignKeyRelation[Campaign] = fields.ForeignKeyField(
        "models.Campaign", related_name="expenses", on_delete=fields.OnDelete.CASCADE
    )
    campaign_id: int
    kind = fields.CharEnumField(ExpenseKind, max_length=16)
    amount = fields.DecimalField(max_digits=14, decimal_places=2)
    currency = fields.CharField(max_length=3)
    incurred_on = fields.DateField()
    vendor = fields.CharField(max_length=200, default="")
    description = fields.TextField(default="")
    external_ref = fields.CharField(max_length=200, null=True)
    created_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name=False, null=True, on_delete=fields.OnDelete.SET_NULL
    )
    created_by_id: int | None

    class Meta:
        table = "expense"
        indexes = [Index(fields=["campaign_id", "incurred_on"])]


class ApiUsage(Model):
    """One call to a paid service (LLM, enrichment), in USD. What each account of the call cost is in its
    `ApiUsageShare` rows; campaign and project summaries count calls from these rows, once each."""

    id = fields.IntField(primary_key=True)
    project: fields.ForeignKeyRelation[Project] = fields.ForeignKeyField(
        "models.Project", related_name=False, on_delete=fields.OnDelete.CASCADE
    )
    project_id: int
    provider = fields.CharField(max_length=50)
    model = fields.CharField(max_length=100)
    operation = fields.CharEnumField(UsageOperation, max_length=16)
    input_units = fields.IntField(default=0)
    output_units = fields.IntField(default=0)
    cost_usd = fields.DecimalField(max_digits=12, decimal_places=6, default=0)
    campaign: fields.ForeignKeyNullableRelation[Campaign] = fields.ForeignKeyField(
        "models.Campaign", related_name=False, null=True, on_delete=fields.OnDelete.SET_NULL
    )
    campaign_id: int | None
    #: The account when the call was about exactly one (a draft); null for a call about several (their shares
    #: say what each cost) or none.
    account: fields.ForeignKeyNullableRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name=False, null=True, on_delete=fields.OnDelete.SET_NULL
    )
    account_id: int | None
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "api_usage"
        indexes = [Index(fields=["project_id", "created_at"]), Index(fields=["campaign_id"])]


class ApiUsageShare(Model):
    """One account's share of a paid call: a call about N accounts (a scoring batch, replies read together)
    gives each of them 1/N of its cost and units, so the shares of a call add up to the call exactly. Written in
    the same transaction as the call's `ApiUsage` row."""

    id = fields.IntField(primary_key=True)
    usage: fields.ForeignKeyRelation[ApiUsage] = fields.ForeignKeyField(
        "models.ApiUsage", related_name="shares", on_delete=fields.OnDelete.CASCADE
    )
    usage_id: int
    project: fields.ForeignKeyRelation[Project] = fields.ForeignKeyField(
        "models.Project", related_name=False, on_delete=fields.OnDelete.CASCADE
    )
    project_id: int
    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name=False, on_delete=fields.OnDelete.CASCADE
    )
    account_id: int
    #: This account's part of the call's cost (six decimals, like ApiUsage.cost_usd).
    cost_usd = fields.DecimalField(max_digits=12, decimal_places=6, default=0)
    input_units = fields.IntField(default=0)
    output_units = fields.IntField(default=0)

    class Meta:
        table = "api_usage_share"
        unique_together = (("usage_id", "account_id"),)
        indexes = [Index(fields=["account_id"])]
