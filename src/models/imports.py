"""CSV import jobs."""

from tortoise import fields
from tortoise.indexes import Index

from outboundql.enums import ImportStatus
from outboundql.models.base import ProjectScopedModel


class ImportJob(ProjectScopedModel):
    """One uploaded file: its status, counts and per-row errors."""

    filename = fields.CharField(max_length=300)
    status = fields.CharEnumField(ImportStatus, max_length=16, default=ImportStatus.QUEUED)
    column_mapping = fields.JSONField(default=dict)
    rows = fields.IntField(default=0)
    created = fields.IntField(default=0)
    merged = fields.IntField(default=0)
    skipped = fields.IntField(default=0)
    failed = fields.IntField(default=0)
    row_errors = fields.JSONField(default=list)  # [{line, reason}]
    error = fields.TextField(null=True)
    created_by = fields.ForeignKeyField(
        "models.User", related_name=False, null=True, on_delete=fields.OnDelete.SET_NULL
    )

    class Meta:
        table = "import_job"
        indexes = [Index(fields=["project_id", "created_at"])]
