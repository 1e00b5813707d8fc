"""Webhooks go to public addresses only unless the operator allows private ones: an address or ``localhost`` that
is not public is refused when the URL is given (an event endpoint, the webhook channel's configuration) and again
when a webhook would go out; a name is resolved by the client itself, refused when any of its addresses is not
public, and connected to at the address that was checked. A test's names resolve through a stand-in for DNS; the
connections and the receiver are real."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator
from typing import Any

import anyio
import httpx
import pytest

from outboundql import models
from outboundql.channels import Configured, DeliveryFailed
from outboundql.channels.webhook import WebhookChannel, url_problem
from outboundql.settings import Settings
from outboundql.webhooks import outbound
from tests.api.test_webhook_channel import delivery
from tests.api.webhooks_helpers import Receiver
from tests.api.webhooks_helpers import receiver as receiver  # the fixture
from tests.helpers import Person, data_of, global_id

SECRET = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


@pytest.fixture
def settings() -> Settings:
    return Settings(database_url="sqlite://:memory:", redis_url=None)  # the default: public addresses only


@pytest.fixture
def dns(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """Names the client resolves to chosen addresses (anything else as the system resolves it)."""
    names: dict[str, str] = {}
    real = anyio.getaddrinfo

    async def getaddrinfo(host: Any, port: Any, **kwargs: Any) -> Any:
        if host in names:
            family = socket.AF_INET6 if ":" in names[host] else socket.AF_INET
            return [(family, socket.SOCK_STREAM, 6, "", (names[host], port))]
        return await real(host, port, **kwargs)

    monkeypatch.setattr(anyio, "getaddrinfo", getaddrinfo)
    yield names


def test_what_counts_as_public() -> None:
    for text in ("10.0.0.5", "172.16.3.4", "192.168.1.1", "127.0.0.1", "169.254.169.254", "100.64.0.1", "0.0.0.0",
                 "224.0.0.1", "::1", "fd00::1", "fe80::1", "::ffff:10.0.0.1", "::ffff:127.0.0.1"):
        assert not outbound.public(ipaddress.ip_address(text)), text
    for text in ("8.8.8.8", "93.184.216.34", "2606:4700::1111", "::ffff:8.8.8.8"):
        assert outbound.public(ipaddress.ip_address(text)), text


async def test_a_name_that_resolves_to_a_private_address_is_not_connected_to(receiver: Receiver,
                                                                             dns: dict[str, str]) -> None:
    port = int(receiver.base.rsplit(":", 1)[1])
    dns["hooks.acme.example"] = "127.0.0.1"
    dns["metadata.acme.example"] = "169.254.169.254"
    async with outbound.client(httpx.Timeout(5.0), private_allowed=False) as http:
        for name in ("hooks.acme.example", "metadata.acme.example"):
            with pytest.raises(httpx.ConnectError, match="not a public address") as refused:
                await http.post(f"http://{name}:{port}/hook", content=b"{}")
            assert dns[name] in str(refused.value)
    assert receiver.received == []
    async with outbound.client(httpx.Timeout(5.0), private_allowed=True) as http:  # the operator allows them
        answer = await http.post(f"http://hooks.acme.example:{port}/hook", content=b"{}")
    assert answer.status_code == 200
    [arrived] = receiver.received
    assert arrived.headers["host"] == f"hooks.acme.example:{port}"  # connected to the address checked


async def test_the_webhook_channel_refuses_a_private_receiver_without_calling_it(receiver: Receiver,
                                                                                dns: dict[str, str]) -> None:
    channel = WebhookChannel()
    port = int(receiver.base.rsplit(":", 1)[1])
    literal = Configured(project_id=1, kind="webhook", settings={"url": receiver.url()},
                         secrets={"signingSecret": SECRET})
    assert "not a public address" in channel.validate(literal.settings, literal.secrets)["url"]
    refused = await channel.deliver(delivery(), literal)
    assert isinstance(refused, DeliveryFailed) and not refused.retryable and "not a public address" in refused.error
    dns["calls.acme.example"] = "127.0.0.1"
    named = Configured(project_id=1, kind="webhook", settings={"url": f"https://calls.acme.example:{port}/hook"},
                       secrets={"signingSecret": SECRET})
    assert url_problem(named.settings["url"]) is None  # a name: checked when it is resolved
    failed = await channel.deliver(delivery(), named)
    assert isinstance(failed, DeliveryFailed) and "not a public address" in failed.error
    assert receiver.received == []


async def test_an_event_endpoint_to_a_private_address_is_refused_as_data(gql: Any, owner: Person,
                                                                        project: models.Project) -> None:
    mutation = """mutation($input: CreateWebhookEndpointInput!) {
      createWebhookEndpoint(input: $input) { endpoint { id } errors { code field message } } }"""
    for url in ("http://127.0.0.1:9/hook", "http://localhost:8080/hook", "https://10.0.0.5/hook",
                "https://[fd00::1]/hook", "https://169.254.169.254/latest/meta-data"):
        made = data_of(await gql(mutation, {"input": {"projectId": global_id("Project", project.id), "url": url,
                                                      "events": ["campaign.updated"]}}, as_=owner))
        errors = made["createWebhookEndpoint"]["errors"]
        assert [(e["code"], e["field"]) for e in errors] == [("INVALID", "input.url")], url
        assert "OUTBOUNDQL_WEBHOOK_PRIVATE_ADDRESSES" in errors[0]["message"]
    assert await models.WebhookEndpoint.all().count() == 0
