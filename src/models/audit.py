"""Who did what to which row."""

from __future__ import annotations

import enum
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model

if TYPE_CHECKING:
    from outboundql.models.auth import ApiToken, User
    from outboundql.models.projects import Project


class AuditSource(enum.StrEnum):
    """Where a change came from."""

    API = "api"
    """A GraphQL request, authenticated with an API token (kept on the event)."""
    CLI = "cli"
    """An ``outboundql`` command run by an operator."""
    WORKER = "worker"
    """A background job or the outreach engine (scheduler, channel results, received mail)."""
    IMPORT = "import"
    """An import job filling the project from a file."""


@dataclass(frozen=True, slots=True)
class Origin:
    """Where the changes made in the current context come from (`current_origin`)."""

    source: AuditSource
    api_token_id: int | None = None


WORKER_ORIGIN = Origin(AuditSource.WORKER)
current_origin: ContextVar[Origin] = ContextVar("audit_origin", default=WORKER_ORIGIN)
"""Set by each entry point (a GraphQL mutation, a command, an import job; anything else is the worker's) and
stamped on every `AuditEvent` made in that context, however it is written (`create`, `bulk_create`)."""


class AuditEvent(Model):
    """One change: the actor, the action, the row, and its fields before and after, and where it came from."""

    def __init__(self, **kwargs: Any) -> None:
        origin = current_origin.get()
        kwargs.setdefault("source", origin.source)
        if origin.api_token_id is not None and "api_token" not in kwargs:
            kwargs.setdefault("api_token_id", origin.api_token_id)
        super().__init__(**kwargs)

    id = fields.IntField(primary_key=True)
    project: fields.ForeignKeyNullableRelation[Project] = fields.ForeignKeyField(
        "models.Project", related_name=False, null=True, on_delete=fields.OnDelete.CASCADE
    )
    project_id: int | None
    """None only for events that outlive their project (``project.delete``)."""
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
    source = fields.CharEnumField(AuditSource, max_length=8, null=True)  # null: written before sources were kept
    api_token: fields.ForeignKeyNullableRelation[ApiToken] = fields.ForeignKeyField(
        "models.ApiToken", related_name=False, null=True, on_delete=fields.OnDelete.SET_NULL
    )
    api_token_id: int | None

    class Meta:
        table = "audit_event"
        indexes = [
            Index(fields=["project_id", "created_at", "id"]),  # the trail, newest first (keyset)
            Index(fields=["project_id", "actor_id", "created_at"]),
            Index(fields=["object_type", "object_id"]),
        ]
