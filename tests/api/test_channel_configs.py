"""Channel plugins and configurations through GraphQL: the ``channels`` query (schema, source), configureChannel
(create, update, settings checked against the plugin's, secrets write-only and sealed in the database),
Project.channels, removeChannel, roles and tenancy."""

from __future__ import annotations

import types
from typing import Any

import pytest
from tortoise.connection import connections

from outboundql import models
from outboundql.channels import AwaitingResult, Configured, Delivery, DeliveryResult, Setting
from outboundql.channels.registry import ChannelRegistry, registry_with
from outboundql.enums import Role
from outboundql.goals import hookimpl
from outboundql.services import channel_configs, secret_box
from tests.api.cadence_world import gid
from tests.helpers import Person, data_of

PLUGINS = """
query { channels { key label serves settingsSchema source } }
"""

CONFIGURE = """
mutation($input: ConfigureChannelInput!) {
  configureChannel(input: $input) {
    channel { id kind key settings secretsSet updatedAt plugin { key } }
    errors { code field message }
  }
}
"""

REMOVE = """
mutation($input: RemoveChannelInput!) {
  removeChannel(input: $input) { kind project { channels { kind } } errors { code field message } }
}
"""

CONFIGURED = """
query($id: ID!) { node(id: $id) { ... on Project { channels { id kind key settings secretsSet } } } }
"""


class Relay:
    """A test channel with a setting of every type and one secret."""

    key = "relay"
    label = "Relay (test)"
    serves = frozenset({"email", "sms"})
    settings = (
        Setting(key="host", label="Host", required=True),
        Setting(key="port", label="Port", type="integer", default=587, minimum=1, maximum=65535),
        Setting(key="security", label="Security", type="choice", choices=("none", "starttls", "tls"),
                default="starttls"),
        Setting(key="verbose", label="Verbose", type="boolean", default=False),
        Setting(key="callbackUrl", label="Callback URL", type="url"),
        Setting(key="fromAddress", label="From address", type="email"),
        Setting(key="password", label="Password", secret=True, required=True),
        Setting(key="apiKey", label="API key", secret=True),
    )

    async def deliver(self, delivery: Delivery, config: Configured) -> DeliveryResult:
        return AwaitingResult()


@hookimpl
def outboundql_register_channels(register: Any) -> None:
    register(Relay())


PLUGIN = types.SimpleNamespace(outboundql_register_channels=outboundql_register_channels)


@pytest.fixture
def channels() -> ChannelRegistry:
    return registry_with(PLUGIN)


async def configure(gql: Any, person: Person, project: models.Project, **input: Any) -> dict[str, Any]:
    variables = {"input": {"projectId": gid("Project", project), "key": "relay", "kind": "EMAIL", **input}}
    return dict(data_of(await gql(CONFIGURE, variables, as_=person))["configureChannel"])


async def configured(gql: Any, person: Person, project: models.Project) -> list[dict[str, Any]] | None:
    node = data_of(await gql(CONFIGURED, {"id": gid("Project", project)}, as_=person))["node"]
    return None if node is None else list(node["channels"])


async def test_the_channels_query_lists_every_plugin_with_its_settings_and_source(gql: Any) -> None:
    listed = {c["key"]: c for c in data_of(await gql(PLUGINS))["channels"]}
    assert {"log", "relay"} <= set(listed)
    assert listed["log"]["source"] == "built-in"
    assert listed["log"]["settingsSchema"] == []
    relay = listed["relay"]
    assert relay["label"] == "Relay (test)"
    assert relay["serves"] == ["EMAIL", "SMS"]
    assert relay["source"] != "built-in"
    schema = {s["key"]: s for s in relay["settingsSchema"]}
    assert list(schema) == ["host", "port", "security", "verbose", "callbackUrl", "fromAddress", "password", "apiKey"]
    assert schema["port"] == {"key": "port", "label": "Port", "type": "integer", "required": False, "default": 587,
                              "choices": [], "secret": False, "description": "", "minimum": 1, "maximum": 65535}
    assert schema["security"]["choices"] == ["none", "starttls", "tls"]
    assert schema["password"]["secret"] is True and schema["password"]["required"] is True


async def test_configure_update_and_remove(gql: Any, owner: Person, project: models.Project) -> None:
    payload = await configure(gql, owner, project, settings={"host": " smtp.example.com ", "port": 2525},
                              secrets={"password": "hunter2"})
    assert payload["errors"] == []
    channel = payload["channel"]
    assert channel["kind"] == "EMAIL" and channel["key"] == "relay" and channel["plugin"] == {"key": "relay"}
    assert channel["settings"] == {"host": "smtp.example.com", "port": 2525, "security": "starttls",
                                   "verbose": False}
    assert channel["secretsSet"] == ["password"]
    assert "hunter2" not in str(channel)

    # An update without secrets keeps them; settings left out keep the stored ones; an empty string clears one.
    payload = await configure(gql, owner, project, secrets={"apiKey": "k-123"})
    assert payload["errors"] == []
    assert payload["channel"]["settings"]["port"] == 2525
    assert payload["channel"]["secretsSet"] == ["apiKey", "password"]
    payload = await configure(gql, owner, project, settings={"host": "mx.example.com", "security": "tls"},
                              secrets={"apiKey": ""})
    assert payload["errors"] == []
    assert payload["channel"]["settings"] == {"host": "mx.example.com", "port": 587, "security": "tls",
                                              "verbose": False}
    assert payload["channel"]["secretsSet"] == ["password"]
    assert await models.ChannelConfig.filter(project=project).count() == 1

    # What delivery sees: the secret opened, the settings as stored.
    through = await channel_configs.for_delivery(project.id, ["email", "sms"])
    plugin, config = through["email"]
    assert plugin.key == "relay" and config.secrets == {"password": "hunter2"}
    assert config.settings["host"] == "mx.example.com"
    assert through["sms"][0].key == "log" and through["sms"][1].secrets == {}

    listed = await configured(gql, owner, project)
    assert listed is not None and [(c["kind"], c["key"], c["secretsSet"]) for c in listed] == [
        ("EMAIL", "relay", ["password"])]

    # The audit trail names what changed, never a secret's value.
    events = await models.AuditEvent.filter(project_id=project.id, object_type="ChannelConfig").order_by("id")
    assert [e.action for e in events] == ["channel.configure"] * 3
    assert events[0].after is not None and events[0].after["secrets_set"] == ["password"]
    assert events[1].after is not None and events[1].after["secrets_changed"] == ["apiKey"]
    assert "hunter2" not in str([(e.before, e.after) for e in events])
    assert "k-123" not in str([(e.before, e.after) for e in events])

    removed = data_of(await gql(REMOVE, {"input": {"projectId": gid("Project", project), "kind": "EMAIL"}},
                                as_=owner))["removeChannel"]
    assert removed == {"kind": "EMAIL", "project": {"channels": []}, "errors": []}
    assert (await channel_configs.for_delivery(project.id, ["email"]))["email"][0].key == "log"
    again = data_of(await gql(REMOVE, {"input": {"projectId": gid("Project", project), "kind": "EMAIL"}},
                              as_=owner))["removeChannel"]
    assert [(e["code"], e["field"]) for e in again["errors"]] == [("NOT_FOUND", "input.kind")]
    assert await models.AuditEvent.filter(project_id=project.id, action="channel.remove").count() == 1


async def test_secrets_are_sealed_in_the_database(gql: Any, owner: Person, project: models.Project) -> None:
    payload = await configure(gql, owner, project, settings={"host": "smtp.example.com"},
                              secrets={"password": "correct horse battery staple"})
    assert payload["errors"] == []
    rows = await connections.get("default").execute_query_dict("SELECT settings, secrets FROM channel_config")
    raw = str(rows)
    assert "correct horse battery staple" not in raw
    assert "smtp.example.com" in raw
    row = await models.ChannelConfig.get(project=project)
    assert row.secrets["password"].startswith(secret_box.VERSION)
    assert secret_box.open_(row.secrets["password"], f"channel:{project.id}:email") == "correct horse battery staple"
    with pytest.raises(secret_box.UnreadableSecret):  # bound to its project and message channel
        secret_box.open_(row.secrets["password"], f"channel:{project.id + 1}:email")


@pytest.mark.parametrize(("input", "errors"), [
    ({"key": "pigeon"}, [("input.key", "No channel plugin 'pigeon' is installed")]),
    ({"kind": "PHONE_CALL"}, [("input.kind", "The relay channel does not deliver phone_call")]),
    ({"settings": {"port": 25}}, [("input.settings.host", "Host is required."),
                                  ("input.secrets.password", "Password is required")]),
    ({"settings": {"host": "h", "port": "25", "security": "ssl", "verbose": "yes", "callbackUrl": "ftp://x",
                   "fromAddress": "nobody", "colour": "red", "password": "p"},
      "secrets": {"password": "p", "token": "t"}},
     [("input.settings.port", "Port must be a whole number."),
      ("input.settings.security", "Security is one of none, starttls, tls."),
      ("input.settings.verbose", "Verbose must be true or false."),
      ("input.settings.callbackUrl", "Callback URL must be an http(s) URL."),
      ("input.settings.fromAddress", "From address must be an e-mail address"),
      ("input.settings.colour", "The relay channel has no setting 'colour'"),
      ("input.settings.password", "Password is a secret: give it in secrets"),
      ("input.secrets.token", "The relay channel has no secret 'token'")]),
    ({"settings": {"host": "h", "port": 70000}, "secrets": {"password": 12}},
     [("input.settings.port", "Port must be at most 65535."),
      ("input.secrets.password", "Password is a secret: give it as a string.")]),
    ({"settings": ["host"], "secrets": {"password": "p"}}, [("input.settings", "Settings are a JSON object")]),
    ({"key": "pigeon", "settings": {"host": "h\x00"}, "secrets": {"pass\x00word": "p"}},
     [("input.settings", "Settings contains a NUL character"),
      ("input.secrets", "A key of Secrets contains a NUL character")]),
])
async def test_invalid_configurations_are_answered_as_data(gql: Any, owner: Person, project: models.Project,
                                                           input: dict[str, Any],
                                                           errors: list[tuple[str, str]]) -> None:
    payload = await configure(gql, owner, project, **input)
    assert payload["channel"] is None
    got = [(e["field"], e["message"]) for e in payload["errors"]]
    assert len(got) == len(errors), got
    for (field, message), (want_field, want_start) in zip(sorted(got), sorted(errors), strict=True):
        assert field == want_field and message.startswith(want_start), (field, message)
    assert await models.ChannelConfig.filter(project=project).count() == 0


async def test_roles_and_tenancy(gql: Any, owner: Person, project: models.Project, make_user: Any, add_member: Any,
                                 make_project: Any) -> None:
    viewer, member, stranger = [await make_user(f"{n}@example.com") for n in ("viewer", "member", "stranger")]
    await add_member(viewer, project, Role.VIEWER)
    await add_member(member, project, Role.MEMBER)
    assert (await configure(gql, owner, project, settings={"host": "h"}, secrets={"password": "p"}))["errors"] == []
    for person in (viewer, member):
        refused = await configure(gql, person, project, settings={"host": "evil"}, secrets={"password": "x"})
        assert [e["code"] for e in refused["errors"]] == ["FORBIDDEN"]
        assert "you need admin" in refused["errors"][0]["message"]
        listed = await configured(gql, person, project)  # seen, without secrets
        assert listed is not None and listed[0]["settings"]["host"] == "h" and listed[0]["secretsSet"] == ["password"]
    removed = data_of(await gql(REMOVE, {"input": {"projectId": gid("Project", project), "kind": "EMAIL"}},
                                as_=member))["removeChannel"]
    assert [e["code"] for e in removed["errors"]] == ["FORBIDDEN"]

    # Another project's configuration is invisible, and configuring it is answered like a missing project.
    assert await configured(gql, stranger, project) is None
    own = await make_project(stranger, "Stranger Outbound")
    assert await configured(gql, stranger, own) == []
    missing = await configure(gql, stranger, project, settings={"host": "h"}, secrets={"password": "p"})
    assert [(e["code"], e["field"]) for e in missing["errors"]] == [("NOT_FOUND", "input.projectId")]
    config = await models.ChannelConfig.get(project=project)
    node = data_of(await gql("query($id: ID!) { node(id: $id) { id } }", {"id": gid("ChannelConfig", config)},
                             as_=stranger))["node"]
    assert node is None
    assert (await models.ChannelConfig.get(project=project)).settings["host"] == "h"


async def test_a_page_of_projects_channels_costs_one_statement(gql: Any, owner: Person, project: models.Project,
                                                              count_queries: Any) -> None:
    for kind in ("EMAIL", "SMS"):
        assert (await configure(gql, owner, project, kind=kind, settings={"host": "h"},
                                secrets={"password": "p"}))["errors"] == []
    with count_queries() as q:
        listed = await configured(gql, owner, project)
    assert listed is not None and [c["kind"] for c in listed] == ["EMAIL", "SMS"]
    assert sum("channel_config" in s for s in q.statements) == 1


async def test_for_delivery_reads_every_kind_in_one_statement(gql: Any, owner: Person, project: models.Project,
                                                              count_queries: Any) -> None:
    for kind in ("EMAIL", "SMS"):
        assert (await configure(gql, owner, project, kind=kind, settings={"host": kind.lower()},
                                secrets={"password": f"p-{kind}"}))["errors"] == []
    with count_queries() as q:
        through = await channel_configs.for_delivery(project.id, ["email", "sms", "phone_call", "email"])
    assert len(q) == 1
    assert {kind: (plugin.key, dict(config.secrets)) for kind, (plugin, config) in through.items()} == {
        "email": ("relay", {"password": "p-EMAIL"}), "sms": ("relay", {"password": "p-SMS"}),
        "phone_call": ("log", {})}
