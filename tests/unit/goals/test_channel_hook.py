"""The ``outboundql_register_channels`` hook and the channel registry: built-ins through the public hook, extra
plugins beside them, and every malformed channel refused with an error naming its plugin."""

from __future__ import annotations

import types
from dataclasses import dataclass, field
from typing import Any

import pytest

from outboundql.channels import LOG, AwaitingResult, Configured, Delivery, DeliveryResult, Setting
from outboundql.channels.registry import ChannelRegistrationError, registry_with
from outboundql.goals import GoalRegistrationError, hookimpl


@dataclass
class FakeChannel:
    key: str = "fake"
    label: str = "Fake"
    serves: Any = frozenset({"email"})
    settings: Any = ()
    extra: dict[str, Any] = field(default_factory=dict)

    async def deliver(self, delivery: Delivery, config: Configured) -> DeliveryResult:
        return AwaitingResult()


def plugin(*channels: object, name: str = "fake_plugin") -> types.SimpleNamespace:
    @hookimpl
    def outboundql_register_channels(register: Any) -> None:
        for channel in channels:
            register(channel)

    return types.SimpleNamespace(__name__=name, outboundql_register_channels=outboundql_register_channels)


def test_hook_outboundql_register_channels() -> None:
    registry = registry_with(plugin(FakeChannel()))
    assert [c.key for c in registry.all()] == ["email", "fake", "log", "webhook"]
    assert registry.get("log") is LOG
    assert registry.source("log") == "built-in"
    fake = registry.get("fake")
    assert fake is not None and fake.serves == frozenset({"email"})


def test_a_plugin_may_take_no_arguments_and_register_nothing() -> None:
    @hookimpl
    def outboundql_register_channels() -> None:
        return None

    registry = registry_with(types.SimpleNamespace(outboundql_register_channels=outboundql_register_channels))
    assert [c.key for c in registry.all()] == ["email", "log", "webhook"]


def test_returning_something_is_refused() -> None:
    @hookimpl
    def outboundql_register_channels(register: Any) -> list[object]:
        return [FakeChannel()]

    with pytest.raises(ChannelRegistrationError, match="must call register\\(channel\\) and return None, not list"):
        registry_with(types.SimpleNamespace(outboundql_register_channels=outboundql_register_channels))


class SyncDeliver(FakeChannel):
    def deliver(self, delivery: Delivery, config: Configured) -> DeliveryResult:  # type: ignore[override]
        return AwaitingResult()


@pytest.mark.parametrize(("channel", "message"), [
    (FakeChannel(key="Fake"), "key must be lowercase snake_case"),
    (FakeChannel(key="log"), "channel key 'log' is already registered by built-in"),
    (FakeChannel(label=""), "label must be a non-empty string"),
    (FakeChannel(serves=frozenset()), "serves must be a non-empty frozenset"),
    (FakeChannel(serves="email"), "serves must be a non-empty frozenset"),
    (FakeChannel(serves=frozenset({"email", "pigeon"})), "serves names unknown message channels \\['pigeon'\\]"),
    (FakeChannel(settings=[Setting(key="host", label="Host")]), "settings must be a tuple"),
    (FakeChannel(settings=({"key": "host"},)), "settings holds dict"),
    (FakeChannel(settings=(Setting(key="from_address", label="From"),)), "'from_address' must be camelCase"),
    (FakeChannel(settings=(Setting(key="host", label="Host"), Setting(key="host", label="Host 2"))),
     "'host' is declared twice"),
    (FakeChannel(settings=(Setting(key="mode", label="Mode", type="choice"),)), "is a choice: list its values"),
    (FakeChannel(settings=(Setting(key="mode", label="Mode", type="choice", choices=("a",), default="b"),)),
     "default 'b' is not one of its choices"),
    (FakeChannel(settings=(Setting(key="port", label="Port", type="number"),)),  # type: ignore[arg-type]
     "has type 'number'"),
    (FakeChannel(settings=(Setting(key="port", label="Port", type="integer", default="25"),)),
     "default '25' is not an integer"),
    (FakeChannel(settings=(Setting(key="host", label=""),)), "setting 'host' needs a label"),
    (SyncDeliver(), "deliver must be an async function"),
])
def test_a_malformed_channel_is_refused_naming_its_plugin(channel: object, message: str) -> None:
    with pytest.raises(ChannelRegistrationError, match=message) as caught:
        registry_with(plugin(channel, name="acme_channels"))
    assert "plugin " in str(caught.value)
    assert isinstance(caught.value, GoalRegistrationError)  # whatever refuses a bad goal plugin refuses this too


def test_two_plugins_with_one_key_the_second_is_named() -> None:
    with pytest.raises(ChannelRegistrationError, match="channel key 'fake' is already registered"):
        registry_with(plugin(FakeChannel(), name="one"), plugin(FakeChannel(), name="two"))


async def test_the_kit_checks_and_delivers_once() -> None:
    from outboundql.channels.testing import check_channel, deliver_once, sample_delivery

    assert check_channel(FakeChannel()).key == "fake"
    with pytest.raises(ChannelRegistrationError, match="deliver must be an async function"):
        check_channel(SyncDeliver())
    assert isinstance(await deliver_once(FakeChannel()), AwaitingResult)
    assert sample_delivery("sms").address == "+34600000001"

    class Wrong(FakeChannel):
        async def deliver(self, delivery: Delivery, config: Configured) -> DeliveryResult:
            return "sent"  # type: ignore[return-value]

    with pytest.raises(AssertionError, match="got str"):
        await deliver_once(Wrong())


def test_the_cli_lists_the_channels() -> None:
    from click.testing import CliRunner

    from outboundql.cli import main

    result = CliRunner().invoke(main, ["channels"])
    assert result.exit_code == 0, result.output
    lines = {line.split()[0]: line for line in result.output.splitlines()}
    assert {"email", "log", "webhook"} <= set(lines)
    assert lines["log"].endswith("[built-in]") and "(email, instagram, linkedin" in lines["log"]
    assert "phone_call, sms" in lines["webhook"] and lines["email"].endswith("(email)  [built-in]")
