"""Event webhooks: a project's endpoints (where its events are POSTed, signed) and the outbox of deliveries."""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING, Any

from tortoise import fields

from outboundql.models.base import ProjectScopedModel

if TYPE_CHECKING:
    from outboundql.models.auth import User


class WebhookDeliveryStatus(enum.StrEnum):
    PENDING = "pending"
    """Waiting for its (next) try at ``next_attempt_at``."""
    DELIVERED = "delivered"
    """The endpoint answered 2xx."""
    FAILED = "failed"
    """Every try failed (or the endpoint was deleted); `redeliverWebhook` tries it again."""


class WebhookEndpoint(ProjectScopedModel):
    """An integrator's HTTPS URL that receives the project's events it subscribes to, signed with its secret
    (Standard Webhooks). The secret is sealed (`outboundql.services.secret_box`, context ``webhook:<id>``)."""

    url = fields.CharField(max_length=2000)
    description = fields.TextField(default="")
    events: fields.JSONField[list[str]] = fields.JSONField(default=list)
    secret = fields.TextField(default="")  # sealed; never read back by the API
    enabled = fields.BooleanField(default=True)
    disabled_at = fields.DatetimeField(null=True)
    disabled_reason = fields.TextField(null=True)
    consecutive_failures = fields.IntField(default=0)
    """Failed tries (of any of its deliveries) since the last one that succeeded."""
    created_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name=False, null=True, on_delete=fields.OnDelete.SET_NULL
    )
    created_by_id: int | None

    class Meta:
        table = "webhook_endpoint"
        indexes = (("project_id", "enabled"),)


class WebhookDelivery(ProjectScopedModel):
    """One event to send to one endpoint, with its tries: the outbox row a worker claims when it is due."""

    endpoint: fields.ForeignKeyRelation[WebhookEndpoint] = fields.ForeignKeyField(
        "models.WebhookEndpoint", related_name="deliveries", on_delete=fields.OnDelete.CASCADE
    )
    endpoint_id: int
    event_id = fields.CharField(max_length=64)
    """Sent as ``webhook-id``: the same for every try and redelivery of the event (receivers dedupe on it)."""
    event_type = fields.CharField(max_length=64)
    payload: fields.JSONField[dict[str, Any]] = fields.JSONField()
    """The body sent: ``{"type", "timestamp", "data"}``."""
    status = fields.CharEnumField(WebhookDeliveryStatus, max_length=16, default=WebhookDeliveryStatus.PENDING)
    attempts = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField(null=True)
    claim_token = fields.CharField(max_length=32, null=True)
    response_status = fields.IntField(null=True)
    error = fields.TextField(null=True)
    delivered_at = fields.DatetimeField(null=True)

    class Meta:
        table = "webhook_delivery"
        indexes = (("status", "next_attempt_at"), ("endpoint_id", "status", "id"))
