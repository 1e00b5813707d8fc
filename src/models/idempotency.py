"""Idempotency keys of the mutations that create (see `outboundql.services.idempotency`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from outboundql.models.projects import Project


class IdempotencyKey(Model):
    """A create request made with a key: what it created, so a retry with the key answers the same.
    Written in the transaction of the rows it names; unique per (scope, operation, key)."""

    id = fields.IntField(primary_key=True)
    scope = fields.CharField(max_length=32)
    """Whose keys these are: ``project:<id>``, or ``user:<id>`` for createProject (which has no project yet)."""
    project: fields.ForeignKeyNullableRelation[Project] = fields.ForeignKeyField(
        "models.Project", related_name=False, null=True, on_delete=fields.OnDelete.CASCADE
    )
    project_id: int | None
    operation = fields.CharField(max_length=64)  # e.g. "product.create", as the audit action
    key = fields.CharField(max_length=200)
    fingerprint = fields.CharField(max_length=64)  # SHA-256 (hex) of the request's command, key left out
    answer: fields.JSONField[dict[str, Any]] = fields.JSONField(default=dict)
    """The created rows' ids and what the first answer said of them (e.g. ``{"product_id": 7}``)."""
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "idempotency_key"
        unique_together = (("scope", "operation", "key"),)
