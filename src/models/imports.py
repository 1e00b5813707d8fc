"""CSV import jobs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.indexes import Index

from outboundql.enums import ImportStatus
from outboundql.models.base import ProjectScopedModel

if TYPE_CHECKING:
    from outboundql.models.auth import User


class ImportJob(ProjectScopedModel):
    """One uploaded file: its status, counts and per-row errors."""

    filename = fields.CharField(max_length=300)
    status = fields.CharEnumField(ImportStatus, max_length=16, default=ImportStatus.QUEUED)
    column_mapping: fields.JSONField[dict[str, str]] = fields.JSONField(default=dict)
    rows = fields.IntField(default=0)
    created = fields.IntField(default=0)
    merged = fields.IntField(default=0)
    skipped = fields.IntField(default=0)
    failed = fields.IntField(default=0)
    row_errors: fields.JSONField[list[dict[str, Any]]] = fields.JSONField(default=list)  # [{line, reason}]
    error = fields.TextField(null=True)
    created_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name=False, null=True, on_delete=fields.OnDelete.SET_NULL
    )
    created_by_id: int | None

    class Meta:
        table = "import_job"
        indexes = [Index(fields=["project_id", "created_at"])]
