"""A channel plugin that delivers a batch through one session (`BatchChannel.session`): the engine opens one per
configuration at the batch's first delivery, delivers each attempt through it and closes it when the batch is
delivered; a session that cannot be opened leaves the batch to ``deliver``, one by one; a session that fails to
close changes nothing delivered; and a ``session`` that is not a plain method is refused at registration."""

from __future__ import annotations

import asyncio
import types
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import pytest

from outboundql import models
from outboundql.channels import Configured, Delivered, Delivery, DeliveryResult, Setting
from outboundql.channels.registry import ChannelRegistrationError, ChannelRegistry, registry_with
from outboundql.enums import AttemptStatus
from outboundql.goals import hookimpl
from outboundql.services import scheduler
from outboundql.services.clock import FakeClock
from tests.api.cadence_world import MONDAY_8, World, email_step, gid
from tests.api.cadence_world import world as world  # the fixture
from tests.api.test_channel_configs import CONFIGURE
from tests.helpers import data_of


class Batching:
    """Delivers through sessions; records what happened to them."""

    key = "batching"
    label = "Batching (test)"
    serves = frozenset({"email"})
    settings = (Setting(key="sender", label="Sender", type="email", required=True),)

    def __init__(self) -> None:
        self.events: list[str] = []
        self.fail_open = False
        self.hang_open = False
        self.fail_close = False

    async def deliver(self, delivery: Delivery, config: Configured) -> DeliveryResult:
        self.events.append(f"deliver {delivery.address}")
        return Delivered(provider_id=f"<{delivery.delivery_key}@one.example>")

    @asynccontextmanager
    async def _session(self, config: Configured) -> AsyncIterator[Any]:
        if self.fail_open:
            raise RuntimeError("cannot log in")
        if self.hang_open:
            self.events.append("opening")
            await asyncio.Event().wait()  # a server that never answers: the delivery's time bound cuts it off
        self.events.append(f"open {config.settings['sender']}")
        channel = self

        class Session:
            async def deliver(self, delivery: Delivery) -> DeliveryResult:
                channel.events.append(f"session {delivery.address}")
                return Delivered(provider_id=f"<{delivery.delivery_key}@batch.example>")

        yield Session()
        self.events.append("close")
        if self.fail_close:
            raise RuntimeError("the goodbye failed")

    def session(self, config: Configured) -> Any:
        return self._session(config)


BATCHING = Batching()


@hookimpl
def outboundql_register_channels(register: Any) -> None:
    register(BATCHING)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(MONDAY_8 + timedelta(hours=1))


@pytest.fixture
def channels() -> ChannelRegistry:
    return registry_with(types.SimpleNamespace(__name__="batching_plugin",
                                               outboundql_register_channels=outboundql_register_channels))


@pytest.fixture
def batching() -> Batching:
    BATCHING.events.clear()
    BATCHING.fail_open = BATCHING.hang_open = BATCHING.fail_close = False
    return BATCHING


async def live(world: World, n: int) -> None:
    for i in range(n):
        await world.account(f"Acme {i}", {"name": f"P{i}", "email": f"p{i}@acme{i}.example"})
    configured = data_of(await world.gql(CONFIGURE, {"input": {
        "projectId": gid("Project", world.project), "key": "batching", "kind": "EMAIL",
        "settings": {"sender": "ana@outbound.example"}}}, as_=world.owner))
    assert configured["configureChannel"]["errors"] == []
    await world.cadence(steps=[email_step(subject="Hello", body="First")], executionMode="ON_ADD")
    await world.go_live()


async def provider_ids(world: World) -> set[str]:
    return {p for (p,) in await models.OutreachAttempt.filter(
        campaign_id=world.campaign.id, status=AttemptStatus.DONE).values_list("provider_id")}


async def test_a_batch_goes_through_one_session_opened_and_closed_once(world: World, batching: Batching) -> None:
    await live(world, 3)
    await world.tick()
    assert batching.events[0] == "open ana@outbound.example" and batching.events[-1] == "close"
    assert sorted(batching.events[1:-1]) == [f"session p{i}@acme{i}.example" for i in range(3)]
    assert len(await provider_ids(world)) == 3 and all(p.endswith("@batch.example>") for p in await provider_ids(world))


async def test_a_session_that_cannot_be_opened_leaves_the_batch_to_deliver(world: World, batching: Batching) -> None:
    batching.fail_open = True
    await live(world, 3)
    await world.tick()
    assert sorted(batching.events) == [f"deliver p{i}@acme{i}.example" for i in range(3)]
    assert all(p.endswith("@one.example>") for p in await provider_ids(world)) and len(await provider_ids(world)) == 3


async def test_a_session_whose_opening_is_cut_off_is_not_tried_again_in_the_batch(
        world: World, batching: Batching, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scheduler, "DELIVERY_TIMEOUT", 0.2)  # the bound a hung opening runs into
    batching.hang_open = True
    await live(world, 3)
    await world.tick()
    assert batching.events.count("opening") == 1, batching.events
    assert len([e for e in batching.events if e.startswith("deliver ")]) == 2  # the others, one by one
    assert len(await provider_ids(world)) == 2


async def test_a_session_that_fails_to_close_keeps_what_it_delivered(world: World, batching: Batching) -> None:
    batching.fail_close = True
    await live(world, 2)
    await world.tick()
    assert batching.events[-1] == "close"
    assert len(await provider_ids(world)) == 2


def test_a_session_that_is_not_a_plain_method_is_refused() -> None:
    class Wrong(Batching):
        key = "wrong"

        async def session(self, config: Configured) -> Any:  # type: ignore[override]
            return None

    @hookimpl
    def register_wrong(register: Any) -> None:
        register(Wrong())

    plugin = types.SimpleNamespace(__name__="wrong_plugin", outboundql_register_channels=register_wrong)
    with pytest.raises(ChannelRegistrationError, match="session, when given, must be a plain method"):
        registry_with(plugin)
