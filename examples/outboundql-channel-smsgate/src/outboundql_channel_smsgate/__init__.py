"""SMS gateway: deliver a campaign's SMS and WhatsApp steps through an HTTP gateway."""

from datetime import UTC, datetime, timedelta

import httpx

from outboundql.channels import Configured, Deferred, Delivered, Delivery, DeliveryFailed, DeliveryResult, Setting
from outboundql.channels.registry import RegisterChannel
from outboundql.goals import hookimpl


class SmsGate:
    """POSTs each message as JSON to the gateway; the gateway answers with its message id."""

    key = "smsgate"
    label = "SMS gateway (HTTP)"
    serves = frozenset({"sms", "whatsapp"})
    settings = (
        Setting(key="url", label="Gateway URL", type="url", required=True,
                description="Where messages are POSTed, e.g. https://gateway.example/v1/messages."),
        Setting(key="sender", label="Sender", required=True, description="The sender name or number shown."),
        Setting(key="dailyCap", label="Messages per day", type="integer", default=500, minimum=1, maximum=100_000),
        Setting(key="apiToken", label="API token", secret=True, required=True),
    )

    def __init__(self, timeout: float = 10.0) -> None:
        self.timeout = timeout

    async def deliver(self, delivery: Delivery, config: Configured) -> DeliveryResult:
        if not delivery.address:
            return DeliveryFailed("No phone number to send to.", retryable=False)
        sender = config.settings["sender"]
        if delivery.quota is not None:  # counted by the server across every worker, per project and day
            until = await delivery.quota.take({f"smsgate:{sender}": config.settings["dailyCap"]})
            if until is not None:
                return Deferred(until, f"{sender} reached its daily cap of {config.settings['dailyCap']} messages.")
        try:
            async with httpx.AsyncClient(timeout=self.timeout) as client:
                answer = await client.post(
                    config.settings["url"],
                    json={"to": delivery.address, "from": sender, "text": delivery.body,
                          "reference": delivery.delivery_key},
                    headers={"Authorization": f"Bearer {config.secrets['apiToken']}",
                             "Idempotency-Key": delivery.delivery_key},  # the same on every try of this attempt
                )
        except httpx.HTTPError as exc:
            return DeliveryFailed(f"The gateway could not be reached: {exc!r}.", retryable=True)
        if answer.is_success:
            return Delivered(provider_id=str(answer.json().get("id") or "") or None)
        if answer.status_code == 429:
            retry_after = answer.headers.get("Retry-After", "")
            wait = int(retry_after) if retry_after.isdigit() else 60
            return Deferred(datetime.now(UTC) + timedelta(seconds=wait), "The gateway asked to slow down.")
        if answer.status_code in (401, 403):
            return Deferred(datetime.now(UTC) + timedelta(hours=1),
                            "The gateway refused the API token: set apiToken again (configureChannel).")
        if answer.status_code in (400, 404, 422):
            return DeliveryFailed(f"The gateway refused {delivery.address}: {answer.text[:200]}", retryable=False,
                                  bounced=True)
        return DeliveryFailed(f"The gateway answered {answer.status_code}.", retryable=answer.status_code >= 500)


SMSGATE = SmsGate()


@hookimpl
def outboundql_register_channels(register: RegisterChannel) -> None:
    register(SMSGATE)
