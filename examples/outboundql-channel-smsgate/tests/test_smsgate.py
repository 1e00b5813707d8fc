"""The SMS gateway channel keeps outboundql's channel contract, against a gateway started on 127.0.0.1."""

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import outboundql_channel_smsgate as plugin
import pytest

from outboundql.channels import Deferred, Delivered, DeliveryFailed
from outboundql.channels.testing import (
    MemoryQuota,
    check_channel,
    configured,
    installed_channels,
    registry_with,
    sample_delivery,
)
from outboundql.goals.testing import installed_plugin


class Gateway:
    """A gateway on 127.0.0.1: records each request and answers with the next (status, headers, body) queued."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.answers: list[tuple[int, dict[str, str], dict[str, Any]]] = []
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                gateway.requests.append({"headers": dict(self.headers), "json": json.loads(body)})
                status, headers, answer = gateway.answers.pop(0) if gateway.answers else (200, {}, {"id": "m-1"})
                data = json.dumps(answer).encode()
                self.send_response(status)
                for name, value in {"Content-Type": "application/json", **headers}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1/messages"


@pytest.fixture
def gateway() -> Iterator[Gateway]:
    gateway = Gateway()
    thread = threading.Thread(target=gateway.server.serve_forever, daemon=True)
    thread.start()
    yield gateway
    gateway.server.shutdown()
    gateway.server.server_close()


def config(gateway: Gateway, **settings: Any) -> Any:
    return configured(plugin.SMSGATE, kind="sms", settings={"url": gateway.url, "sender": "Acme", **settings},
                      secrets={"apiToken": "t0k3n"})


SMS = sample_delivery("sms", address="+34600000001", body="Hi Dana, a quick question.")


def test_channel_satisfies_the_contract() -> None:
    check_channel(plugin.SMSGATE)  # key, label, serves, settings, an async deliver


def test_coexists_with_builtins() -> None:
    registry = registry_with(plugin)
    assert {"log", "email", "webhook", "smsgate"} <= {c.key for c in registry.all()}


def test_installed_plugin_is_discovered() -> None:  # passes only when the distribution is installed
    assert "smsgate" in installed_channels()
    assert installed_plugin("smsgate") is plugin


def test_a_configuration_the_host_would_refuse_is_refused() -> None:
    with pytest.raises(ValueError) as error:
        configured(plugin.SMSGATE, kind="sms", settings={"url": "ftp://gateway.example", "dailyCap": 0})
    assert "settings.url: Gateway URL must be an http(s) URL." in str(error.value)
    assert "settings.dailyCap: Messages per day must be at least 1." in str(error.value)
    assert "settings.sender: Sender is required." in str(error.value)
    assert "secrets.apiToken: API token is required: set it in secrets." in str(error.value)


async def test_a_message_the_gateway_accepts_is_delivered(gateway: Gateway) -> None:
    result = await plugin.SMSGATE.deliver(SMS, config(gateway))
    assert result == Delivered(provider_id="m-1")
    [request] = gateway.requests
    assert request["json"] == {"to": "+34600000001", "from": "Acme", "text": "Hi Dana, a quick question.",
                               "reference": "attempt-1"}
    assert request["headers"]["Authorization"] == "Bearer t0k3n"
    assert request["headers"]["Idempotency-Key"] == "attempt-1"


async def test_a_refused_number_bounces_and_an_outage_is_retried(gateway: Gateway) -> None:
    gateway.answers = [(422, {}, {"error": "not a mobile number"}), (503, {}, {})]
    refused = await plugin.SMSGATE.deliver(SMS, config(gateway))
    assert isinstance(refused, DeliveryFailed) and refused.bounced and not refused.retryable
    outage = await plugin.SMSGATE.deliver(SMS, config(gateway))
    assert outage == DeliveryFailed("The gateway answered 503.", retryable=True)


async def test_slow_down_and_the_daily_cap_defer(gateway: Gateway) -> None:
    gateway.answers = [(429, {"Retry-After": "120"}, {})]
    slowed = await plugin.SMSGATE.deliver(SMS, config(gateway))
    assert isinstance(slowed, Deferred) and slowed.until > datetime.now(UTC)

    quota = MemoryQuota(now=datetime(2026, 3, 2, 10, 0, tzinfo=UTC))
    capped = sample_delivery("sms", address="+34600000001", body="Hi Dana, a quick question.", quota=quota)
    assert isinstance(await plugin.SMSGATE.deliver(capped, config(gateway, dailyCap=1)), Delivered)
    second = await plugin.SMSGATE.deliver(capped, config(gateway, dailyCap=1))
    assert second == Deferred(datetime(2026, 3, 3, tzinfo=UTC), "Acme reached its daily cap of 1 messages.")
    assert len(gateway.requests) == 2  # the capped message never reached the gateway
