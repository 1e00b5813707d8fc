"""Event webhooks: a project's endpoints, their delivery log, and redelivery (see
`outboundql.services.webhook_endpoints` and `outboundql.services.webhook_deliveries`)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import strawberry
from strawberry import relay
from strawberry.scalars import JSON

from outboundql import models
from outboundql.gql.base import ProjectNode, maybe, mutation, pk_of
from outboundql.gql.context import Info
from outboundql.gql.errors import UserError
from outboundql.gql.pagination import CountedConnection
from outboundql.gql.permissions import IsAuthenticated
from outboundql.models import webhooks as stored
from outboundql.services import webhook_deliveries as deliveries
from outboundql.services import webhook_endpoints as service

if TYPE_CHECKING:
    WebhookDeliveryStatus = stored.WebhookDeliveryStatus
else:
    WebhookDeliveryStatus = strawberry.enum(
        stored.WebhookDeliveryStatus, description="PENDING (waiting for its next try), DELIVERED (answered 2xx) or "
        "FAILED (every try failed; redeliverWebhook tries again).")

_SIGNING = ("Each request is a POST of JSON `{type, timestamp, data}` signed per Standard Webhooks: headers "
            "`webhook-id` (the event's id, the same on every try: dedupe on it), `webhook-timestamp` and "
            "`webhook-signature` (`v1,` + base64 of HMAC-SHA256 with the secret, over `<id>.<timestamp>.<body>`).")


@strawberry.type(description="An event an endpoint can subscribe to.")
class WebhookEventType:
    key: str = strawberry.field(description="What `events` takes, e.g. `campaign.updated`; sent as `type`.")
    description: str


@strawberry.type(description="One event sent (or to send) to one endpoint, with its tries.")
class WebhookDelivery(ProjectNode):
    id: relay.NodeID[int]
    event_type: str = strawberry.field(description="A key of `webhookEventTypes`.")
    event_id: str = strawberry.field(description="Sent as `webhook-id`; a redelivery keeps it.")
    status: WebhookDeliveryStatus
    attempts: int = strawberry.field(description="Tries made so far.")
    next_attempt_at: datetime | None = strawberry.field(description="When the next try is due (PENDING only).")
    response_status: int | None = strawberry.field(description="The HTTP status of the last try's answer, if any.")
    error: str | None = strawberry.field(description="Why the last try failed: the answer's status and the start "
                                         "of its body, or the connection error.")
    delivered_at: datetime | None
    created_at: datetime
    payload: JSON = strawberry.field(description="The body sent: `{type, timestamp, data}`.")
    row: strawberry.Private[models.WebhookDelivery]
    node_model = models.WebhookDelivery


@strawberry.type
class WebhookDeliveryConnection(CountedConnection[WebhookDelivery]):
    @classmethod
    def resolve_node(cls, node: models.WebhookDelivery, *, info: Info, **kwargs: Any) -> WebhookDelivery:
        return WebhookDelivery.from_model(node)


@strawberry.type(description="An HTTPS URL that receives the project's events it subscribes to. " + _SIGNING)
class WebhookEndpoint(ProjectNode):
    id: relay.NodeID[int]
    url: str
    description: str
    events: list[str] = strawberry.field(description="Keys of `webhookEventTypes`.")
    enabled: bool
    disabled_at: datetime | None
    disabled_reason: str | None = strawberry.field(
        description="Why it is disabled: by whom, or automatically after failing for about a day.")
    created_at: datetime
    row: strawberry.Private[models.WebhookEndpoint]
    node_model = models.WebhookEndpoint

    @strawberry.field(description="Its delivery log, newest first (only those in `status`, when given); first at "
                      "most OUTBOUNDQL_MAX_PAGE_SIZE (100 by default).")
    async def deliveries(self, info: Info, first: int | None = None, after: str | None = None,
                         status: WebhookDeliveryStatus | None = None) -> WebhookDeliveryConnection:
        queryset = deliveries.endpoint_deliveries(self.row.id, status)
        return await WebhookDeliveryConnection.page(queryset, info, first=first, after=after)


async def project_webhook_endpoints(project_id: int) -> list[WebhookEndpoint]:
    return [WebhookEndpoint.from_model(row) for row in await service.project_endpoints(project_id)]


@strawberry.input
class CreateWebhookEndpointInput:
    project_id: relay.GlobalID
    url: str = strawberry.field(description="https:// (http:// only for localhost and loopback addresses).")
    events: list[str] = strawberry.field(description="Keys of `webhookEventTypes`.")
    description: str = ""

    def to_command(self) -> service.CreateWebhookEndpoint:
        return service.CreateWebhookEndpoint(project_id=pk_of(self.project_id, "Project", "project_id"),
                                             url=self.url, events=tuple(self.events), description=self.description)


@strawberry.input(description="Only the fields given change.")
class UpdateWebhookEndpointInput:
    id: relay.GlobalID
    url: str | None = strawberry.UNSET
    events: list[str] | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    enabled: bool | None = strawberry.field(default=strawberry.UNSET, description="true enables a disabled "
                                            "endpoint again (its failures are forgotten; its pending deliveries go "
                                            "out).")
    rotate_secret: bool = strawberry.field(default=False, description="Make a new signing secret (answered once, "
                                           "in `secret`); the old one stops signing at once.")

    def to_command(self) -> service.UpdateWebhookEndpoint:
        return service.UpdateWebhookEndpoint(
            id=pk_of(self.id, "WebhookEndpoint", "id"), url=maybe(self.url),
            events=maybe(self.events, tuple), description=maybe(self.description),
            enabled=maybe(self.enabled), rotate_secret=self.rotate_secret)


@strawberry.input
class DeleteWebhookEndpointInput:
    id: relay.GlobalID


@strawberry.input
class RedeliverWebhookInput:
    delivery_id: relay.GlobalID


@strawberry.type
class WebhookEndpointPayload:
    endpoint: WebhookEndpoint | None = None
    secret: str | None = strawberry.field(
        default=None, description="The signing secret (`whsec_…`), shown only in this answer: store it with the "
        "receiver now. Null unless the endpoint was created or its secret rotated.")
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class DeleteWebhookEndpointPayload:
    deleted_endpoint_id: relay.GlobalID | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class RedeliverWebhookPayload:
    delivery: WebhookDelivery | None = strawberry.field(
        default=None, description="The new delivery of the same event (same `eventId`), due now.")
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class WebhookQueries:
    @strawberry.field(permission_classes=[IsAuthenticated],
                      description="The events a webhook endpoint can subscribe to.")
    def webhook_event_types(self) -> list[WebhookEventType]:
        return [WebhookEventType(key=key, description=text) for key, text in deliveries.EVENT_TYPES.items()]


@strawberry.type
class WebhookMutations:
    @mutation("Add an endpoint that receives the project's events it subscribes to (admins). " + _SIGNING
              + " The answer holds the signing secret, shown this once. Failed tries are retried with backoff "
              "for about a day; an endpoint failing all that time is disabled, saying why.")
    async def create_webhook_endpoint(self, info: Info, input: CreateWebhookEndpointInput) -> WebhookEndpointPayload:
        result = await service.create_webhook_endpoint(info.context.access, input.to_command())
        return WebhookEndpointPayload(endpoint=WebhookEndpoint.from_model(result.endpoint), secret=result.secret)

    @mutation("Change an endpoint's URL, events or description, enable or disable it, or rotate its secret "
              "(admins).")
    async def update_webhook_endpoint(self, info: Info, input: UpdateWebhookEndpointInput) -> WebhookEndpointPayload:
        result = await service.update_webhook_endpoint(info.context.access, input.to_command())
        return WebhookEndpointPayload(endpoint=WebhookEndpoint.from_model(result.endpoint), secret=result.secret)

    @mutation("Delete an endpoint and its delivery log (admins).")
    async def delete_webhook_endpoint(self, info: Info, input: DeleteWebhookEndpointInput
                                      ) -> DeleteWebhookEndpointPayload:
        cmd = service.DeleteWebhookEndpoint(id=pk_of(input.id, "WebhookEndpoint", "id"))
        result = await service.delete_webhook_endpoint(info.context.access, cmd)
        return DeleteWebhookEndpointPayload(
            deleted_endpoint_id=relay.GlobalID("WebhookEndpoint", str(result.endpoint_id)))

    @mutation("Send an event again (admins): a new delivery of the same event, with the same `webhook-id` and "
              "body, due now. The endpoint must be enabled.")
    async def redeliver_webhook(self, info: Info, input: RedeliverWebhookInput) -> RedeliverWebhookPayload:
        cmd = deliveries.RedeliverWebhook(delivery_id=pk_of(input.delivery_id, "WebhookDelivery", "delivery_id"))
        result = await deliveries.redeliver(info.context.access, cmd)
        return RedeliverWebhookPayload(delivery=WebhookDelivery.from_model(result.delivery))
