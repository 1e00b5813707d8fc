"""Abstract bases shared by every model."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from outboundql.models.projects import Project


class TimestampedModel(Model):
    """Adds ``created_at`` / ``updated_at``, both set by the ORM."""

    id = fields.IntField(primary_key=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        abstract = True


class ProjectScopedModel(TimestampedModel):
    """Every row below a project carries its ``project_id``, so tenancy is one indexed filter."""

    project: fields.ForeignKeyRelation[Project] = fields.ForeignKeyField(
        "models.Project", related_name=False, on_delete=fields.OnDelete.CASCADE
    )
    project_id: int

    class Meta:
        abstract = True
