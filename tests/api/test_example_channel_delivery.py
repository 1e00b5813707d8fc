"""The example channel plugin (examples/outboundql-channel-smsgate), installed through its entry point, delivers a
live campaign's SMS step: configured with configureChannel (its secret sealed), executed by the scheduler at the
injected clock's time, the message POSTed to a gateway on 127.0.0.1 with the token; its daily cap (counted by the
server's quota) defers the next message to the next day's window, never drops it."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from outboundql import models
from outboundql.channels.registry import ChannelRegistry, collect_channels
from outboundql.enums import AttemptStatus
from outboundql.goals.manager import make_plugin_manager
from outboundql.services.clock import FakeClock
from tests.api.cadence_world import MONDAY_8, World, gid
from tests.api.cadence_world import world as world  # the fixture
from tests.api.test_channel_configs import CONFIGURE
from tests.helpers import data_of
from tests.integration.test_example_channel import EXAMPLE_SRC, MODULE, Gateway, write_dist_info
from tests.integration.test_example_channel import gateway as gateway  # the fixture

NINE = MONDAY_8 + timedelta(hours=1)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(MONDAY_8)


@pytest.fixture
def channels(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ChannelRegistry]:
    """The channels of what is installed: the built-ins and the example, found through its entry point."""
    write_dist_info(tmp_path)
    monkeypatch.syspath_prepend(str(EXAMPLE_SRC))
    monkeypatch.syspath_prepend(str(tmp_path))
    yield collect_channels(make_plugin_manager())
    sys.modules.pop(MODULE, None)


async def test_an_sms_step_goes_through_the_example_channel_and_its_cap_defers(
        world: World, gateway: Gateway, channels: ChannelRegistry) -> None:
    assert channels.source("smsgate") == "outboundql-channel-smsgate 0.1.0"
    dana = await world.account("Acme", {"name": "Dana Diaz", "phone": "+34600000001"})
    eve = await world.account("Globex", {"name": "Eve Ortiz", "phone": "+34600000002"})
    configured = data_of(await world.gql(CONFIGURE, {"input": {
        "projectId": gid("Project", world.project), "key": "smsgate", "kind": "SMS",
        "settings": {"url": gateway.url, "sender": "Acme Outbound", "dailyCap": 1},
        "secrets": {"apiToken": "t0k3n"}}}, as_=world.owner))["configureChannel"]
    assert configured["errors"] == []
    assert configured["channel"]["secretsSet"] == ["apiToken"] and "apiToken" not in configured["channel"]["settings"]
    await world.cadence(steps=[{"channel": "SMS", "body": "Hi {{contact.first_name}}, a quick question."}],
                        executionMode="ON_ADD")
    await world.go_live()

    await world.at(NINE)

    assert [(r["json"]["to"], r["json"]["text"], r["authorization"]) for r in gateway.received] == [
        ("+34600000001", "Hi Dana, a quick question.", "Bearer t0k3n")]
    sent = await models.OutreachAttempt.get(campaign_account_id=dana.id)
    assert (sent.status, sent.provider_id) == (AttemptStatus.DONE, "gw-1")
    waiting = await models.OutreachAttempt.get(campaign_account_id=eve.id)
    assert waiting.status is AttemptStatus.SCHEDULED
    assert waiting.error == "Deferred by the smsgate channel: Acme Outbound reached its daily cap of 1 messages."
    assert waiting.due_at == NINE + timedelta(days=1)  # the next day's window opening: kept, never dropped

    await world.at(NINE + timedelta(days=1))
    assert [r["json"]["to"] for r in gateway.received] == ["+34600000001", "+34600000002"]
