"""A test kit for channel-plugin authors (like `outboundql.goals.testing` for goals).

Example:
    from outboundql.channels.testing import check_channel, deliver_once, registry_with

    def test_channel_satisfies_the_contract():
        check_channel(SmsRelay())

    def test_coexists_with_builtins():
        assert "sms_relay" in registry_with(my_plugin_module)

    async def test_it_delivers():
        result = await deliver_once(SmsRelay(), settings={"url": "http://127.0.0.1:8080"}, secrets={"apiKey": "k"})
        assert isinstance(result, AwaitingResult)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from outboundql.channels import (
    AwaitingResult,
    Configured,
    Deferred,
    Delivered,
    Delivery,
    DeliveryFailed,
    DeliveryResult,
    OutreachChannel,
)
from outboundql.channels.registry import ChannelRegistry, validate_channel
from outboundql.channels.registry import registry_with as _registry_with

__all__ = ["check_channel", "deliver_once", "registry_with", "sample_delivery"]


def check_channel(channel: object) -> OutreachChannel:
    """Run the host's registration checks on ``channel``; returns it. Raises `ChannelRegistrationError` saying what
    to fix when it breaks the contract."""
    return validate_channel(channel, plugin="test")


def registry_with(*plugins: object) -> ChannelRegistry:
    """The built-in channels plus ``plugins`` (modules or objects with hook implementations), none installed."""
    return _registry_with(*plugins)


def sample_delivery(channel: str = "email", **overrides: Any) -> Delivery:
    """A `Delivery` as the engine builds it (first step to one contact), with ``overrides`` applied."""
    address = "dana@acme.example" if channel == "email" else "+34600000001"
    values: dict[str, Any] = {
        "attempt_id": 1, "delivery_key": "attempt-1", "project_id": 1, "campaign_id": 1, "channel": channel,
        "address": address, "contact_name": "Dana Diaz", "account_name": "Acme", "subject": "Hello",
        "body": "Hello Dana,\n\nA short note.", "step": 1, "attempt_number": 1,
        "unsubscribe_url": "http://127.0.0.1:8000/unsubscribe/test" if channel == "email" else None,
        "result_url": "http://127.0.0.1:8000/channels/results/test",
    }
    values.update(overrides)
    return Delivery(**values)


async def deliver_once(channel: OutreachChannel, delivery: Delivery | None = None, *,
                       settings: Mapping[str, Any] | None = None, secrets: Mapping[str, str] | None = None
                       ) -> DeliveryResult:
    """Check ``channel``, then deliver ``delivery`` (a `sample_delivery` of a message channel it serves) with
    ``settings`` (its defaults filled in) and ``secrets``; the result, which must be one the engine understands."""
    check_channel(channel)
    delivery = delivery or sample_delivery(sorted(channel.serves)[0])
    defaults = {s.key: s.default for s in channel.settings if not s.secret and s.default is not None}
    config = Configured(project_id=delivery.project_id, kind=delivery.channel,
                        settings={**defaults, **(settings or {})}, secrets=dict(secrets or {}))
    result = await channel.deliver(delivery, config)
    if not isinstance(result, (Delivered, AwaitingResult, Deferred, DeliveryFailed)):
        raise AssertionError(f"deliver must return Delivered, AwaitingResult, Deferred or DeliveryFailed, "
                             f"got {type(result).__name__}")
    return result


