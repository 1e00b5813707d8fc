"""CSV import jobs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.indexes import Index

from outboundql.enums import ImportOrigin, ImportStatus
from outboundql.models.base import ProjectScopedModel, TimestampedModel

if TYPE_CHECKING:
    from outboundql.models.auth import User
    from outboundql.models.campaigns import Campaign


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
    #: What adding the accounts to the campaign did (added, already_present, blocked, scored, error), null until then.
    campaign_result: fields.JSONField[dict[str, Any] | None] = fields.JSONField(null=True)
    error = fields.TextField(null=True)
    campaign: fields.ForeignKeyNullableRelation[Campaign] = fields.ForeignKeyField(
        "models.Campaign", related_name=False, null=True, on_delete=fields.OnDelete.SET_NULL
    )
    campaign_id: int | None
    dry_run = fields.BooleanField(default=False)
    origin = fields.CharEnumField(ImportOrigin, max_length=16, default=ImportOrigin.UPLOAD)
    sender = fields.CharField(max_length=254, null=True)  # the From address of an import by e-mail
    done = fields.IntField(default=0)  # rows processed so far (progress: done of rows)
    runs = fields.IntField(default=0)  # times a worker started it (a crash leaves one more)
    started_at = fields.DatetimeField(null=True)
    heartbeat_at = fields.DatetimeField(null=True)  # moved by the running job; a stale one is resumed
    finished_at = fields.DatetimeField(null=True)
    created_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name=False, null=True, on_delete=fields.OnDelete.SET_NULL
    )
    created_by_id: int | None

    class Meta:
        table = "import_job"
        indexes = [Index(fields=["project_id", "created_at", "id"])]  # the job list, newest first


class ImportFile(TimestampedModel):
    """The bytes of an import job's file, kept apart so listing jobs never reads them."""

    import_job: fields.OneToOneRelation[ImportJob] = fields.OneToOneField(
        "models.ImportJob", related_name="file", on_delete=fields.OnDelete.CASCADE
    )
    import_job_id: int
    content = fields.BinaryField()

    class Meta:
        table = "import_file"
