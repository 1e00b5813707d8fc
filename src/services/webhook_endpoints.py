"""A project's event webhook endpoints: create (the signing secret is shown once), update, enable again,
rotate the secret, delete. Managing them is an admin's (as API tokens and integrations are); members and
viewers may read them and their deliveries, never the secret.

A URL is ``https://`` (plain ``http://`` only for a loopback or ``localhost`` receiver, i.e. development),
without credentials or a fragment. Events are keys of `webhook_deliveries.EVENT_TYPES`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from tortoise.transactions import in_transaction

from outboundql import models
from outboundql.enums import Role
from outboundql.errors import Collector
from outboundql.services import audit, fields, runtime, secret_box
from outboundql.services.access import Access
from outboundql.services.commands import UNSET, Maybe
from outboundql.services.webhook_deliveries import EVENT_TYPES
from outboundql.webhooks import outbound, signing

MAX_URL = 2000
MAX_DESCRIPTION = 500
MAX_EVENTS = 50
MAX_ENDPOINTS = 20
"""Endpoints per project: each event is one delivery per subscribed endpoint."""


def project_endpoints(project_id: int) -> Any:
    """The endpoints of a project, oldest first (a queryset)."""
    return models.WebhookEndpoint.filter(project_id=project_id).order_by("id")


@dataclass(frozen=True, slots=True)
class CreateWebhookEndpoint:
    project_id: int
    url: str
    events: tuple[str, ...]
    description: str = ""


@dataclass(frozen=True, slots=True)
class UpdateWebhookEndpoint:
    """Only the fields given change. Enabling a disabled endpoint clears its failures and reason."""

    id: int
    url: Maybe[str | None] = UNSET
    events: Maybe[tuple[str, ...] | None] = UNSET
    description: Maybe[str | None] = UNSET
    enabled: Maybe[bool | None] = UNSET
    rotate_secret: bool = False


@dataclass(frozen=True, slots=True)
class DeleteWebhookEndpoint:
    id: int


@dataclass(frozen=True, slots=True)
class EndpointChanged:
    endpoint: models.WebhookEndpoint
    secret: str | None = None
    """The signing secret, in clear: only in the answer that made it (create, rotation), never again."""


@dataclass(frozen=True, slots=True)
class EndpointDeleted:
    endpoint_id: int


def _storable(value: str, field: str, label: str, check: Collector) -> str | None:
    try:
        return fields.storable(value, label)
    except ValueError as exc:
        check.add(field, str(exc))
        return None


def _clean_url(value: str, check: Collector) -> str:
    url = value.strip()
    if _storable(url, "url", "The URL", check) is None:
        return url
    try:
        parts = urlsplit(url)
    except ValueError:
        check.add("url", "Give an absolute https:// URL, e.g. https://example.com/hooks/outboundql.")
        return url
    if len(url) > MAX_URL:
        check.add("url", f"The URL is longer than {MAX_URL} characters.")
    elif parts.scheme not in ("http", "https") or not parts.hostname:
        check.add("url", "Give an absolute https:// URL, e.g. https://example.com/hooks/outboundql.")
    elif parts.username or parts.password:
        check.add("url", "Put no credentials in the URL: the receiver checks the signature instead.")
    elif parts.fragment:
        check.add("url", "A webhook URL has no #fragment.")
    elif parts.scheme == "http" and not outbound.loopback(parts.hostname):
        check.add("url", "Use https:// (plain http:// is accepted for localhost and loopback addresses only).")
    elif refused := outbound.literal_refusal(parts.hostname, runtime.settings().webhook_private_addresses):
        check.add("url", refused)
    return url


def _clean_events(values: tuple[str, ...], check: Collector) -> list[str]:
    events: list[str] = []
    if len(values) > MAX_EVENTS:
        check.add("events", f"At most {MAX_EVENTS} events (there are {len(EVENT_TYPES)}: see webhookEventTypes).")
        return events
    for i, value in enumerate(values):
        if value not in EVENT_TYPES:
            check.add(f"events[{i}]", f"Unknown event {value!r}; the events are {', '.join(EVENT_TYPES)} "
                      "(see webhookEventTypes).")
        elif value not in events:
            events.append(value)
    if not values:
        check.add("events", "Subscribe to at least one event (see webhookEventTypes).")
    return events


def _clean_description(value: str, check: Collector) -> str:
    text = value.strip()
    if _storable(text, "description", "The description", check) is None:
        return text
    if len(text) > MAX_DESCRIPTION:
        check.add("description", f"The description is longer than {MAX_DESCRIPTION} characters.")
    return text


def _public(row: models.WebhookEndpoint) -> dict[str, Any]:
    """What the audit keeps of an endpoint (never its secret)."""
    return {"url": row.url, "events": list(row.events), "description": row.description, "enabled": row.enabled}


async def create_webhook_endpoint(access: Access, cmd: CreateWebhookEndpoint) -> EndpointChanged:
    access.require(cmd.project_id, Role.ADMIN, field="project_id")
    check = Collector()
    url = _clean_url(cmd.url, check)
    events = _clean_events(cmd.events, check)
    description = _clean_description(cmd.description, check)
    if await models.WebhookEndpoint.filter(project_id=cmd.project_id).count() >= MAX_ENDPOINTS:
        check.add("project_id", f"A project has at most {MAX_ENDPOINTS} webhook endpoints; delete one first.")
    check.raise_if_any()
    secret = signing.new_secret()
    async with in_transaction():
        row = await models.WebhookEndpoint.create(project_id=cmd.project_id, url=url, events=events,
                                                  description=description, created_by=access.user)
        row.secret = secret_box.seal(secret, f"webhook:{row.id}")
        await row.save(update_fields=["secret"])
        await audit.record(project_id=cmd.project_id, actor=access.user, action="webhook_endpoint.create", row=row,
                           after=_public(row))
    return EndpointChanged(row, secret)


async def update_webhook_endpoint(access: Access, cmd: UpdateWebhookEndpoint) -> EndpointChanged:
    row = await access.get(models.WebhookEndpoint, cmd.id, Role.ADMIN, field="id")
    check = Collector()
    changes: dict[str, Any] = {}
    if cmd.url is not UNSET:
        changes["url"] = _clean_url(cmd.url or "", check)
    if cmd.events is not UNSET:
        changes["events"] = _clean_events(cmd.events or (), check)
    if cmd.description is not UNSET:
        changes["description"] = _clean_description(cmd.description or "", check)
    check.raise_if_any()
    secret = signing.new_secret() if cmd.rotate_secret else None
    async with in_transaction():
        locked = await models.WebhookEndpoint.filter(id=row.id).select_for_update().get()
        before = _public(locked)
        for name, value in changes.items():
            setattr(locked, name, value)
        if cmd.enabled is not UNSET and cmd.enabled is not None and cmd.enabled != locked.enabled:
            locked.enabled = cmd.enabled
            if cmd.enabled:  # a fresh start: the failures that disabled it are behind it
                locked.consecutive_failures = 0
                locked.disabled_at = None
                setattr(locked, "disabled_reason", None)  # noqa: B010 (a nullable column the ORM types as str)
            else:
                locked.disabled_at = runtime.now()
                locked.disabled_reason = f"Disabled by {access.user.email}."
        if secret is not None:
            locked.secret = secret_box.seal(secret, f"webhook:{locked.id}")
        await locked.save()
        after = _public(locked) | ({"secret": "rotated"} if secret else {})
        await audit.record(project_id=locked.project_id, actor=access.user, action="webhook_endpoint.update",
                           row=locked, before=before, after=after)
    return EndpointChanged(locked, secret)


async def delete_webhook_endpoint(access: Access, cmd: DeleteWebhookEndpoint) -> EndpointDeleted:
    """Delete the endpoint and its delivery log (pending deliveries are dropped)."""
    row = await access.get(models.WebhookEndpoint, cmd.id, Role.ADMIN, field="id")
    async with in_transaction():
        await audit.record(project_id=row.project_id, actor=access.user, action="webhook_endpoint.delete", row=row,
                           before=_public(row))
        await models.WebhookEndpoint.filter(id=row.id).delete()
    return EndpointDeleted(row.id)
