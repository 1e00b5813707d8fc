"""Channel plugins and the project's channel configurations (the ``channels`` query, ``Project.channels``,
``configureChannel``, ``removeChannel``). Secret values are never returned: only which ones are set."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, cast

import strawberry
from strawberry import relay
from strawberry.scalars import JSON

from outboundql import enums, models
from outboundql.channels import OutreachChannel
from outboundql.gql.base import ProjectNode, lazy_class, mutation, pk_of
from outboundql.gql.context import Info
from outboundql.gql.enums import Channel
from outboundql.gql.errors import UserError
from outboundql.services import channel_configs as service
from outboundql.services import runtime

if TYPE_CHECKING:
    from outboundql.gql.projects import Project

ProjectRef = Annotated["Project", strawberry.lazy("outboundql.gql.projects")]


@strawberry.type(description="A channel plugin: how attempts of the message channels it serves leave the building.")
class ChannelPlugin:
    key: str = strawberry.field(description="Stable identifier, e.g. `email`, `webhook`, `log`.")
    label: str
    serves: list[Channel] = strawberry.field(description="The message channels it can deliver.")
    settings_schema: JSON = strawberry.field(
        description="Its settings, in order: a list of `{ key label type required default choices secret "
        "description minimum maximum }`; `type` is string, integer, boolean, url, email or choice. A `secret` one "
        "is given in `configureChannel`'s `secrets` and never returned.")
    source: str = strawberry.field(description="`built-in`, or the distribution name and version of the plugin.")

    @classmethod
    def of(cls, plugin: OutreachChannel, source: str) -> ChannelPlugin:
        return cls(key=plugin.key, label=plugin.label, serves=[enums.Channel(s) for s in sorted(plugin.serves)],
                   settings_schema=cast(JSON, service.settings_schema(plugin)), source=source)


@strawberry.type(name="ChannelConfig", description="The channel a project delivers one message channel through, "
                 "and its settings. Secrets are never returned: `secretsSet` names the ones that are set.")
class ChannelConfigType(ProjectNode):
    id: relay.NodeID[int]
    kind: Channel = strawberry.field(description="The message channel it is configured for (one per project).")
    key: str = strawberry.field(description="The channel plugin that delivers it (see the `channels` query).")
    updated_at: datetime
    row: strawberry.Private[models.ChannelConfig]
    node_model = models.ChannelConfig

    @strawberry.field(description="Its settings (defaults filled in), without the secrets.")
    def settings(self) -> JSON:
        return cast(JSON, dict(self.row.settings))

    @strawberry.field(description="The names of the secrets that are set (their values are never returned).")
    def secrets_set(self) -> list[str]:
        return sorted(self.row.secrets)

    @strawberry.field(description="The plugin, or null when it is no longer installed (its attempts then wait).")
    def plugin(self) -> ChannelPlugin | None:
        registry = runtime.channels()
        plugin = registry.get(self.row.key)
        return ChannelPlugin.of(plugin, registry.source(plugin.key)) if plugin else None


async def project_channels(project_id: int) -> list[ChannelConfigType]:
    """The project's configured channels, by message channel (the caller checked the viewer sees the project)."""
    rows = await models.ChannelConfig.filter(project_id=project_id).order_by("kind", "id")
    return [ChannelConfigType.from_model(row) for row in rows]


@strawberry.input(description="Configure (or update) the channel that delivers one message channel of a project.")
class ConfigureChannelInput:
    project_id: relay.GlobalID
    key: str = strawberry.field(description="The channel plugin's key (see the `channels` query).")
    kind: Channel = strawberry.field(description="The message channel it delivers; one configuration per kind.")
    settings: JSON | None = strawberry.field(
        default=None, description="A JSON object of its settings (see `settingsSchema`); omitted ones take their "
        "default. Null on an update keeps the stored settings.")
    secrets: JSON | None = strawberry.field(
        default=None, description="A JSON object of secret names to values; a secret left out keeps its stored "
        "value, an empty string clears it.")

    def to_command(self) -> service.ConfigureChannel:
        settings: Any = self.settings
        secrets: Any = self.secrets
        return service.ConfigureChannel(
            project_id=pk_of(self.project_id, "Project", "project_id"), key=self.key, kind=enums.Channel(self.kind),
            settings=settings, secrets=secrets if secrets is not None else {})


@strawberry.type(description="The answer of configureChannel.")
class ConfigureChannelPayload:
    channel: ChannelConfigType | None = None
    errors: list[UserError] = strawberry.field(
        default_factory=list, description="Problems with the request (a field each: `key`, `kind`, "
        "`settings.<name>`, `secrets.<name>`); nothing was saved.")


@strawberry.input(description="Stop delivering a message channel through a configured channel.")
class RemoveChannelInput:
    project_id: relay.GlobalID
    kind: Channel

    def to_command(self) -> service.RemoveChannel:
        return service.RemoveChannel(project_id=pk_of(self.project_id, "Project", "project_id"),
                                     kind=enums.Channel(self.kind))


@strawberry.type(description="The answer of removeChannel.")
class RemoveChannelPayload:
    project: ProjectRef | None = strawberry.field(default=None, description="The project, its `channels` as now.")
    kind: Channel | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ChannelQueries:
    @strawberry.field(description="Every registered channel plugin, sorted by key. Needs no authentication.")
    def channels(self) -> list[ChannelPlugin]:
        return [ChannelPlugin.of(c.channel, c.source) for c in runtime.channels().all()]


@strawberry.type
class ChannelMutations:
    @mutation("Configure the channel plugin that delivers a project's attempts of one message channel (the admin "
              "role: it holds credentials that act for the project). Settings are checked against the plugin's, "
              "secrets stored encrypted and never returned; audited without the secret values.")
    async def configure_channel(self, info: Info, input: ConfigureChannelInput) -> ConfigureChannelPayload:
        result = await service.configure_channel(info.context.access, input.to_command())
        return ConfigureChannelPayload(channel=ChannelConfigType.from_model(result.config))

    @mutation("Remove a project's configuration of a message channel (the admin role), its secrets with it: its "
              "attempts go to the `log` channel (a person) again. Audited.")
    async def remove_channel(self, info: Info, input: RemoveChannelInput) -> RemoveChannelPayload:
        result = await service.remove_channel(info.context.access, input.to_command())
        return RemoveChannelPayload(project=lazy_class(ProjectRef).from_model(result.project), kind=result.kind)
