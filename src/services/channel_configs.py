"""Channel configurations: which channel plugin delivers a project's attempts of one message channel (``kind``),
with which settings and secrets; and what the scheduler delivers through (`for_delivery`).

Configuring is for admins (like API tokens, a configuration holds credentials that act for the project). Settings
are validated against the plugin's `Setting`s and stored with their defaults filled in; secrets are write-only:
sealed with `secret_box` bound to ``channel:<project id>:<kind>``, never returned (only which ones are set), kept
when an update omits them and cleared by an empty string. Audit events name the secrets changed, never their
values.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from tortoise.transactions import in_transaction

from outboundql import channels, models
from outboundql.channels import Configured, Deferred, Delivery, DeliveryResult, OutreachChannel, Setting
from outboundql.enums import Channel, Role
from outboundql.errors import Collector, InvalidInput, NotFound
from outboundql.services import audit, fields, runtime, secret_box
from outboundql.services.access import Access

MAX_TEXT = 2000
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+\Z")
#: How long an attempt waits when its configured channel cannot be used (plugin gone, secret unreadable).
UNUSABLE_RETRY = timedelta(hours=1)


def context(project_id: int, kind: str) -> str:
    """What a configuration's secrets are sealed to: they open only for this project and message channel."""
    return f"channel:{project_id}:{kind}"


@dataclass(frozen=True, slots=True)
class ConfigureChannel:
    project_id: int
    key: str
    kind: Channel
    settings: Mapping[str, Any] | None = None
    """The settings (all of them; omitted ones take their default). None on an update: keep the stored ones."""
    secrets: Mapping[str, Any] = field(default_factory=dict)
    """Secrets to set; one omitted keeps its stored value, an empty string clears it."""


@dataclass(frozen=True, slots=True)
class ChannelConfigured:
    config: models.ChannelConfig
    created: bool


async def configure_channel(access: Access, cmd: ConfigureChannel) -> ChannelConfigured:
    """Create or update the project's configuration of ``cmd.kind`` (one per project and message channel)."""
    access.require(cmd.project_id, Role.ADMIN, field="project_id")
    check = Collector()
    for name, value, label in (("key", cmd.key, "Key"), ("settings", cmd.settings, "Settings"),
                               ("secrets", cmd.secrets, "Secrets")):
        try:  # text no database can store is refused on its own field, whatever else is wrong
            fields.storable_json(value, label, max_depth=5)
        except ValueError as exc:
            check.add(name, str(exc))
    check.raise_if_any()
    kind = Channel(cmd.kind)
    plugin = runtime.channels().get(cmd.key)
    if plugin is None:
        known = ", ".join(c.key for c in runtime.channels().all())
        raise InvalidInput(f"No channel plugin {cmd.key!r} is installed; the channels are {known}.", field="key")
    if kind.value not in plugin.serves:
        raise InvalidInput(f"The {plugin.key} channel does not deliver {kind.value}; it delivers "
                           f"{', '.join(sorted(plugin.serves))}.", field="kind")
    existing = await models.ChannelConfig.filter(project_id=cmd.project_id, kind=kind).first()
    same_plugin = existing is not None and existing.key == plugin.key
    given = cmd.settings if cmd.settings is not None else (existing.settings if same_plugin and existing else {})
    settings = clean_settings(plugin, given, check)
    sealed = dict(existing.secrets) if same_plugin and existing else {}
    changed_secrets: list[str] = []
    declared = {s.key: s for s in plugin.settings if s.secret}
    if not isinstance(cmd.secrets, Mapping):
        raise InvalidInput("Secrets are a JSON object of secret names to values.", field="secrets")
    for name, value in cmd.secrets.items():
        if name not in declared:
            check.add(f"secrets.{name}", _unknown(plugin, name, secret=True))
        elif value is not None and not isinstance(value, str):
            check.add(f"secrets.{name}", f"{declared[name].label} is a secret: give it as a string.")
        elif len(value or "") > MAX_TEXT:
            check.add(f"secrets.{name}", f"{declared[name].label} is at most {MAX_TEXT} characters.")
        elif value:
            sealed[name] = secret_box.seal(value, context(cmd.project_id, kind.value))
            changed_secrets.append(name)
        elif sealed.pop(name, None) is not None:
            changed_secrets.append(name)
    for name, setting in declared.items():
        if setting.required and name not in sealed and f"secrets.{name}" not in {i.field for i in check.items}:
            check.add(f"secrets.{name}", f"{setting.label} is required: set it in secrets.")
    validate = getattr(plugin, "validate", None)  # optional: checks a channel makes beyond the declared types
    if callable(validate) and not check.items:
        new_secrets = {n: v for n, v in cmd.secrets.items() if isinstance(v, str) and v}
        for name, problem in validate(settings, new_secrets).items():
            check.add(f"secrets.{name}" if name in declared else f"settings.{name}", problem)
    check.raise_if_any()
    async with in_transaction():
        if existing is None:
            config = await models.ChannelConfig.create(project_id=cmd.project_id, kind=kind, key=plugin.key,
                                                       settings=settings, secrets=sealed, created_by=access.user)
            await audit.record(project_id=cmd.project_id, actor=access.user, action="channel.configure",
                               row=config, after={"kind": kind.value, "key": plugin.key, "settings": settings,
                                                  "secrets_set": sorted(sealed)})
            return ChannelConfigured(config, created=True)
        before = {"key": existing.key, "settings": existing.settings}
        existing.key, existing.settings, existing.secrets = plugin.key, settings, sealed
        await existing.save()
        was, now = audit.changed(before, {"key": plugin.key, "settings": settings})
        await audit.record(project_id=cmd.project_id, actor=access.user, action="channel.configure", row=existing,
                           before={"kind": kind.value, **was},
                           after={"kind": kind.value, **now, "secrets_changed": sorted(changed_secrets)})
    return ChannelConfigured(existing, created=False)


@dataclass(frozen=True, slots=True)
class RemoveChannel:
    project_id: int
    kind: Channel


@dataclass(frozen=True, slots=True)
class ChannelRemoved:
    project: models.Project
    kind: Channel


async def remove_channel(access: Access, cmd: RemoveChannel) -> ChannelRemoved:
    """Remove the project's configuration of ``cmd.kind`` (its secrets with it): that message channel's attempts
    go through ``log`` again."""
    access.require(cmd.project_id, Role.ADMIN, field="project_id")
    kind = Channel(cmd.kind)
    async with in_transaction():
        config = await models.ChannelConfig.filter(project_id=cmd.project_id, kind=kind
                                                   ).select_for_update().first()
        if config is None:
            raise NotFound(f"A configured {kind.value} channel", field="kind")
        await audit.record(project_id=cmd.project_id, actor=access.user, action="channel.remove", row=config,
                           before={"kind": kind.value, "key": config.key, "settings": config.settings,
                                   "secrets_set": sorted(config.secrets)})
        await config.delete()
    return ChannelRemoved(await models.Project.get(id=cmd.project_id), kind)


# --- settings ---------------------------------------------------------------------------------------


def _unknown(plugin: OutreachChannel, name: str, *, secret: bool) -> str:
    if secret:
        names = [s.key for s in plugin.settings if s.secret]
        kind = "secret"
    else:
        names = [s.key for s in plugin.settings if not s.secret]
        kind = "setting"
    listed = ", ".join(names) if names else "none"
    return f"The {plugin.key} channel has no {kind} {name!r}; its {kind}s are: {listed}."


def clean_settings(plugin: OutreachChannel, given: Mapping[str, Any], check: Collector) -> dict[str, Any]:
    """``given`` checked against the plugin's (non-secret) settings, defaults filled in; issues on
    ``settings.<key>``."""
    if not isinstance(given, Mapping):
        check.add("settings", "Settings are a JSON object of setting names to values.")
        return {}
    declared = {s.key: s for s in plugin.settings}
    out: dict[str, Any] = {}
    for name, value in given.items():
        setting = declared.get(name)
        if setting is None:
            check.add(f"settings.{name}", _unknown(plugin, name, secret=False))
        elif setting.secret:
            check.add(f"settings.{name}", f"{setting.label} is a secret: give it in secrets, not settings "
                      "(settings are shown to every member).")
        elif value is not None:
            try:
                out[name] = clean_value(setting, value)
            except ValueError as exc:
                check.add(f"settings.{name}", str(exc))
    for setting in plugin.settings:
        if setting.secret or setting.key in out or f"settings.{setting.key}" in {i.field for i in check.items}:
            continue
        if setting.default is not None:
            out[setting.key] = setting.default
        elif setting.required:
            check.add(f"settings.{setting.key}", f"{setting.label} is required.")
    return {k: out[k] for k in sorted(out)}


def clean_value(setting: Setting, value: Any) -> Any:
    """``value`` as ``setting`` takes it; ValueError saying what is wrong."""
    label = setting.label
    if setting.type == "integer":
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{label} must be a whole number.")
        if setting.minimum is not None and value < setting.minimum:
            raise ValueError(f"{label} must be at least {setting.minimum}.")
        if setting.maximum is not None and value > setting.maximum:
            raise ValueError(f"{label} must be at most {setting.maximum}.")
        return value
    if setting.type == "boolean":
        if not isinstance(value, bool):
            raise ValueError(f"{label} must be true or false.")
        return value
    if not isinstance(value, str):
        raise ValueError(f"{label} must be a string.")
    value = value.strip()
    if len(value) > MAX_TEXT:
        raise ValueError(f"{label} is at most {MAX_TEXT} characters.")
    if setting.required and not value:
        raise ValueError(f"{label} is required.")
    if setting.type == "choice" and value not in setting.choices:
        raise ValueError(f"{label} is one of {', '.join(setting.choices)}.")
    if setting.type == "email" and value and not _EMAIL.match(value):
        raise ValueError(f"{label} must be an e-mail address (name@example.com).")
    if setting.type == "url" and value:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"{label} must be an http(s) URL.")
    return value


def settings_schema(plugin: OutreachChannel) -> list[dict[str, Any]]:
    """What a form needs to configure ``plugin``: its settings in order, secret ones flagged."""
    return [{"key": s.key, "label": s.label, "type": s.type, "required": s.required, "default": s.default,
             "choices": list(s.choices), "secret": s.secret, "description": s.description,
             "minimum": s.minimum, "maximum": s.maximum} for s in plugin.settings]


# --- delivery ---------------------------------------------------------------------------------------


class _Unusable:
    """Stands in for a configured channel that cannot deliver now (its plugin is not installed, a secret no longer
    opens): the attempt waits, with the reason on it, until someone fixes the configuration."""

    label = "Unavailable"
    serves: frozenset[str] = frozenset()
    settings: tuple[Setting, ...] = ()

    def __init__(self, key: str, reason: str) -> None:
        self.key = key
        self.reason = reason

    async def deliver(self, delivery: Delivery, config: Configured) -> DeliveryResult:
        return Deferred(until=runtime.now() + UNUSABLE_RETRY, reason=self.reason)


async def for_delivery(project_id: int, kinds: Iterable[str]) -> dict[str, tuple[OutreachChannel, Configured]]:
    """For each message channel of ``kinds``, the channel plugin that delivers it for the project and its
    configuration (secrets opened), in one query; a kind with no configuration goes through ``log``."""
    wanted = sorted({str(Channel(k).value) for k in kinds})
    if not wanted:
        return {}
    registry = runtime.channels()
    log_channel = registry.get(channels.LOG.key) or channels.LOG
    found = {c.kind.value: c for c in await models.ChannelConfig.filter(project_id=project_id, kind__in=wanted)}
    out: dict[str, tuple[OutreachChannel, Configured]] = {}
    for kind in wanted:
        config = found.get(kind)
        if config is None:
            out[kind] = (log_channel, Configured(project_id=project_id, kind=kind))
            continue
        plugin = registry.get(config.key)
        if plugin is None:
            out[kind] = (_Unusable(config.key, f"The {kind} channel is configured with the {config.key!r} plugin, "
                                   "which is not installed: install it or configure another channel."),
                         Configured(project_id=project_id, kind=kind))
            continue
        try:
            opened = {name: secret_box.open_(sealed, context(project_id, kind))
                      for name, sealed in config.secrets.items()}
        except secret_box.UnreadableSecret:
            out[kind] = (_Unusable(config.key, f"A secret of the {kind} channel cannot be read with this server's "
                                   "key: set it again (configureChannel)."),
                         Configured(project_id=project_id, kind=kind))
            continue
        defaults = {s.key: s.default for s in plugin.settings if not s.secret and s.default is not None}
        out[kind] = (plugin, Configured(project_id=project_id, kind=kind, settings={**defaults, **config.settings},
                                        secrets=opened))
    return out
