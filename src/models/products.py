"""Products and the target personas (ICP) that live on each (product, goal) pair."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.indexes import Index

from outboundql.enums import PersonaStatus
from outboundql.models.base import ProjectScopedModel

if TYPE_CHECKING:
    from outboundql.models.auth import User


class Product(ProjectScopedModel):
    """What the project sells or promotes, its description anchors personas and scoring."""

    name = fields.CharField(max_length=200)
    slug = fields.CharField(max_length=100)  # unique in the project; collisions get -2, -3…
    description = fields.TextField(default="")
    website_url = fields.CharField(max_length=500, null=True)
    communication_language = fields.CharField(max_length=8, null=True)
    example_good_urls: fields.JSONField[list[str]] = fields.JSONField(default=list)
    example_bad_urls: fields.JSONField[list[str]] = fields.JSONField(default=list)
    archived_at = fields.DatetimeField(null=True)
    created_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name=False, null=True, on_delete=fields.OnDelete.SET_NULL
    )
    created_by_id: int | None

    class Meta:
        table = "product"
        unique_together = (("project", "slug"),)
        indexes = [Index(fields=["project_id", "archived_at"])]


class Persona(ProjectScopedModel):
    """The target persona of one (product, goal). ``version`` is bumped on every edit."""

    product: fields.ForeignKeyRelation[Product] = fields.ForeignKeyField(
        "models.Product", related_name="personas", on_delete=fields.OnDelete.CASCADE
    )
    product_id: int
    goal_key = fields.CharField(max_length=64)  # key of a goal plugin; plugins are not rows
    status = fields.CharEnumField(PersonaStatus, max_length=16, default=PersonaStatus.DRAFT)
    version = fields.IntField(default=1)
    name = fields.CharField(max_length=200, default="")
    summary = fields.TextField(default="")
    industries: fields.JSONField[list[str]] = fields.JSONField(default=list)
    job_titles: fields.JSONField[list[str]] = fields.JSONField(default=list)
    pain_points: fields.JSONField[list[str]] = fields.JSONField(default=list)
    company_size_min = fields.IntField(null=True)
    company_size_max = fields.IntField(null=True)
    countries: fields.JSONField[list[str]] = fields.JSONField(default=list)
    keywords: fields.JSONField[list[str]] = fields.JSONField(default=list)
    exclusions: fields.JSONField[list[str]] = fields.JSONField(default=list)
    approved_at = fields.DatetimeField(null=True)
    approved_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name=False, null=True, on_delete=fields.OnDelete.SET_NULL
    )
    approved_by_id: int | None

    class Meta:
        table = "persona"
        unique_together = (("product", "goal_key"),)
