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
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
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
from outboundql.channels.registry import ChannelRegistry, collect_channels, validate_channel
from outboundql.channels.registry import registry_with as _registry_with

__all__ = ["MemoryQuota", "check_channel", "configured", "deliver_once", "installed_channels", "registry_with",
           "sample_delivery"]


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




def installed_channels() -> ChannelRegistry:
    """The channels ``outboundql serve`` would load from what is installed (built-ins and every ``outboundql.goals``
    entry point), ``OUTBOUNDQL_DISABLE_PLUGINS`` aside: proves a distribution's packaging."""
    from outboundql.goals.manager import make_plugin_manager

    return collect_channels(make_plugin_manager())


def configured(channel: OutreachChannel, *, kind: str | None = None, settings: Mapping[str, Any] | None = None,
               secrets: Mapping[str, str] | None = None, project_id: int = 1) -> Configured:
    """The `Configured` ``deliver`` receives once a project configured ``channel`` for message channel ``kind``
    (default: the first it serves) with these settings and secrets, checked as ``configureChannel`` checks them
    (types, choices, bounds, required ones, the channel's own ``validate``) with defaults filled in. A configuration
    the host would refuse raises ValueError listing each problem as ``settings.<key>: …`` / ``secrets.<key>: …``."""
    from outboundql.errors import Collector
    from outboundql.services.channel_configs import clean_settings  # the host's own checks

    check = Collector()
    chosen = kind if kind is not None else sorted(channel.serves)[0]
    if chosen not in channel.serves:
        check.add("kind", f"The {channel.key} channel does not deliver {chosen}; it delivers "
                  f"{', '.join(sorted(channel.serves))}.")
    clean = clean_settings(channel, dict(settings or {}), check)
    declared = {s.key: s for s in channel.settings if s.secret}
    given = {name: value for name, value in (secrets or {}).items() if value}
    for name in given:
        if name not in declared:
            check.add(f"secrets.{name}", f"The {channel.key} channel has no secret {name!r}.")
    for name, setting in declared.items():
        if setting.required and name not in given:
            check.add(f"secrets.{name}", f"{setting.label} is required: set it in secrets.")
    validate = getattr(channel, "validate", None)
    if callable(validate) and not check.items:
        for name, problem in validate(clean, given).items():
            check.add(f"secrets.{name}" if name in declared else f"settings.{name}", problem)
    if check.items:
        raise ValueError("; ".join(f"{i.field}: {i.message}" for i in check.items))
    return Configured(project_id=project_id, kind=chosen, settings=clean, secrets=given)


@dataclass
class MemoryQuota:
    """An `outboundql.channels.Quota` in memory, for unit tests: counters (key → daily cap) count in ``taken``; a
    take that would pass a cap takes nothing and answers the next UTC midnight after ``now``, as the server's quota
    does (there counted in the database, atomically across workers). Pass it as ``sample_delivery(quota=…)``."""

    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    taken: dict[str, int] = field(default_factory=dict)

    async def take(self, limits: Mapping[str, int]) -> datetime | None:
        if any(self.taken.get(key, 0) >= cap for key, cap in limits.items()):
            return datetime.combine(self.now.astimezone(UTC).date() + timedelta(days=1), time(0), tzinfo=UTC)
        for key in limits:
            self.taken[key] = self.taken.get(key, 0) + 1
        return None

    async def give_back(self, limits: Mapping[str, int]) -> None:
        for key in limits:
            self.taken[key] = max(self.taken.get(key, 0) - 1, 0)
