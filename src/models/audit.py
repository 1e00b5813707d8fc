"""Who did what to which row."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model

if TYPE_CHECKING:
    from outboundql.models.auth import User
    from outboundql.models.projects import Project


class AuditEvent(Model):
    """One change: the actor, the action, the row, and its fields before and after."""

    id = fields.IntField(primary_key=True)
    project: fields.ForeignKeyRelation[Project] = fields.ForeignKeyField(
        "models.Project", related_name=False, on_delete=fields.OnDelete.CASCADE
    )
    project_id: int
    actor: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name=False, null=True, on_delete=fields.OnDelete.SET_NULL
    )
    actor_id: int | None
    action = fields.CharField(max_length=64)  # e.g. "account.update"
    object_type = fields.CharField(max_length=32)
    object_id = fields.IntField()
    before: fields.JSONField[dict[str, Any] | None] = fields.JSONField(null=True)
    after: fields.JSONField[dict[str, Any] | None] = fields.JSONField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "audit_event"
        indexes = [
            Index(fields=["project_id", "created_at"]),
            Index(fields=["object_type", "object_id"]),
        ]
