"""The registry of channel plugins: validation at registration, lookup by key.

Channels are registered through the ``outboundql_register_channels`` hook by the same plugin manager as goals
(built-ins first, then the ``outboundql.goals`` entry-point group, then extras). `default_channels()` is the
process-wide registry (built on first use, never at import); `registry_with(...)` builds one with extra plugins
(tests, the plugin author's kit).
"""

from __future__ import annotations

import functools
import inspect
import re
import typing
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial

import pluggy

from outboundql.channels import OutreachChannel, Setting, SettingType
from outboundql.enums import Channel
from outboundql.goals.api import GoalRegistrationError
from outboundql.goals.manager import make_plugin_manager, plugin_sources

RegisterChannel = Callable[[OutreachChannel], None]
"""What ``outboundql_register_channels`` receives: call it once per channel."""

_KEY = re.compile(r"^[a-z][a-z0-9_]{0,63}\Z")  # \Z: "$" would accept a trailing newline
_SETTING_KEY = re.compile(r"^[a-z][a-zA-Z0-9]{0,63}\Z")
SETTING_TYPES: frozenset[str] = frozenset(typing.get_args(SettingType))
KINDS: frozenset[str] = frozenset(c.value for c in Channel)


class ChannelRegistrationError(GoalRegistrationError):
    """A channel plugin supplied something the host refuses; the message names the plugin and the fix. (A kind of
    `GoalRegistrationError`, so whatever refuses to start on a bad plugin refuses on a bad channel too.)"""


@dataclass(frozen=True, slots=True)
class RegisteredChannel:
    """A validated channel and where it came from."""

    channel: OutreachChannel
    source: str  # "built-in" or "<distribution> <version>" or the plugin name

    @property
    def key(self) -> str:
        return self.channel.key


class ChannelRegistry:
    """Channels by key. Iteration (`all`) is sorted by key, so plugin load order never matters."""

    def __init__(self) -> None:
        self._channels: dict[str, RegisteredChannel] = {}

    def register(self, channel: object, *, source: str = "built-in", plugin: str = "?") -> None:
        """Validate ``channel`` and add it; raise `ChannelRegistrationError` naming ``plugin``."""
        checked = validate_channel(channel, plugin=plugin)
        if checked.key in self._channels:
            other = self._channels[checked.key].source
            raise ChannelRegistrationError(
                f"plugin {plugin!r}: channel key {checked.key!r} is already registered by {other}; "
                "pick another key (keys are stable identifiers stored in channel configurations)")
        self._channels[checked.key] = RegisteredChannel(channel=checked, source=source)

    def get(self, key: str) -> OutreachChannel | None:
        entry = self._channels.get(key)
        return entry.channel if entry else None

    def source(self, key: str) -> str:
        return self._channels[key].source

    def all(self) -> list[RegisteredChannel]:
        return [self._channels[k] for k in sorted(self._channels)]

    def __contains__(self, key: object) -> bool:
        return key in self._channels

    def __iter__(self) -> Iterator[OutreachChannel]:
        return (self._channels[k].channel for k in sorted(self._channels))

    def __len__(self) -> int:
        return len(self._channels)


def validate_channel(channel: object, *, plugin: str = "?") -> OutreachChannel:
    """``channel`` if it fulfils the `OutreachChannel` contract, else `ChannelRegistrationError` saying what to fix."""
    key = getattr(channel, "key", None)

    def error(message: str) -> ChannelRegistrationError:
        return ChannelRegistrationError(f"plugin {plugin!r}, channel {key!r}: {message}")

    if not isinstance(key, str) or not _KEY.match(key):
        raise error("the key must be lowercase snake_case (a letter, then letters, digits or _; at most 64), "
                    "e.g. 'email' or 'twilio_voice'")
    label = getattr(channel, "label", None)
    if not isinstance(label, str) or not label.strip():
        raise error("label must be a non-empty string (what a frontend shows)")
    serves = getattr(channel, "serves", None)
    if isinstance(serves, str) or not isinstance(serves, (set, frozenset, tuple, list)) or not serves:
        raise error(f"serves must be a non-empty frozenset of message channels, among {sorted(KINDS)}")
    unknown = sorted(str(s) for s in serves if s not in KINDS)
    if unknown:
        raise error(f"serves names unknown message channels {unknown}; the message channels are {sorted(KINDS)}")
    settings = getattr(channel, "settings", None)
    if not isinstance(settings, tuple):
        raise error("settings must be a tuple of outboundql.channels.Setting (empty when it needs none)")
    seen: set[str] = set()
    for setting in settings:
        if not isinstance(setting, Setting):
            raise error(f"settings holds {type(setting).__name__}, not an outboundql.channels.Setting")
        _check_setting(setting, seen, error)
    deliver = getattr(channel, "deliver", None)
    if not inspect.iscoroutinefunction(deliver):
        raise error("deliver must be an async function: async def deliver(self, delivery, config) -> result")
    session = getattr(channel, "session", None)
    if session is not None and (not callable(session) or inspect.iscoroutinefunction(session)):
        raise error("session, when given, must be a plain method returning an async context manager: "
                    "def session(self, config) -> AbstractAsyncContextManager[DeliverySession]")
    return typing.cast(OutreachChannel, channel)


def _check_setting(setting: Setting, seen: set[str], error: Callable[[str], ChannelRegistrationError]) -> None:
    name = setting.key
    if not isinstance(name, str) or not _SETTING_KEY.match(name):
        raise error(f"setting key {name!r} must be camelCase (a lowercase letter, then letters or digits), "
                    "e.g. 'fromAddress'")
    if name in seen:
        raise error(f"setting key {name!r} is declared twice")
    seen.add(name)
    if not isinstance(setting.label, str) or not setting.label.strip():
        raise error(f"setting {name!r} needs a label")
    if setting.type not in SETTING_TYPES:
        raise error(f"setting {name!r} has type {setting.type!r}; the types are {sorted(SETTING_TYPES)}")
    if setting.type == "choice":
        if not setting.choices or not all(isinstance(c, str) for c in setting.choices):
            raise error(f"setting {name!r} is a choice: list its values in choices=(...)")
        if setting.default is not None and setting.default not in setting.choices:
            raise error(f"setting {name!r}: default {setting.default!r} is not one of its choices")
    elif setting.choices:
        raise error(f"setting {name!r} lists choices but its type is {setting.type!r} (use type='choice')")
    if setting.secret and setting.type not in ("string", "url"):
        raise error(f"setting {name!r} is secret: secrets are strings (type 'string')")
    if setting.type == "integer" and setting.default is not None and (
            isinstance(setting.default, bool) or not isinstance(setting.default, int)):
        raise error(f"setting {name!r}: default {setting.default!r} is not an integer")
    if setting.type == "boolean" and setting.default is not None and not isinstance(setting.default, bool):
        raise error(f"setting {name!r}: default {setting.default!r} is not a boolean")


def collect_channels(pm: pluggy.PluginManager) -> ChannelRegistry:
    """Ask every plugin for its channels; each registration is attributed to its plugin."""
    registry = ChannelRegistry()
    sources = plugin_sources(pm)
    hooktrace = pm.trace.root.get("hook")
    for impl in pm.hook.outboundql_register_channels.get_hookimpls():  # registration order
        hooktrace("outboundql_register_channels", "plugin:", impl.plugin_name)
        register = partial(registry.register, source=sources.get(impl.plugin_name, impl.plugin_name),
                           plugin=impl.plugin_name)
        result = impl.function(**{name: arg for name, arg in {"register": register}.items() if name in impl.argnames})
        if result is not None:
            raise ChannelRegistrationError(
                f"plugin {impl.plugin_name!r}: outboundql_register_channels must call register(channel) and return "
                f"None, not {type(result).__name__}")
    return registry


def registry_with(*plugins: object) -> ChannelRegistry:
    """The built-in channels plus ``plugins`` (modules or objects with hook implementations); no installed ones."""
    return collect_channels(make_plugin_manager(entry_points=False, extra=plugins))


@functools.cache
def default_channels() -> ChannelRegistry:
    """The process-wide registry (built-in and installed channels, minus disabled plugins), built on first use."""
    from outboundql.settings import get_settings

    settings = get_settings()
    return collect_channels(make_plugin_manager(blocked=settings.disabled_plugins, trace=settings.trace_plugins))
