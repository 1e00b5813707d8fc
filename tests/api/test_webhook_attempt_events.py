"""``attempt.result_recorded`` for attempts a channel settled as the scheduler executed them (delivered at once,
or bounced), not only for results recorded later: a test channel configured for EMAIL on a live campaign."""

from __future__ import annotations

from typing import Any

from outboundql import models
from outboundql.channels import Delivered, DeliveryFailed
from outboundql.services import webhook_deliveries as outbox
from tests.api.cadence_world import World, email_step
from tests.api.cadence_world import world as world  # the fixture
from tests.api.test_channel_delivery import NINE, Probe, live
from tests.api.test_channel_delivery import channels as channels  # the test channel's registry (fixture)
from tests.api.test_channel_delivery import clock as clock  # Monday 08:00 (fixture)
from tests.api.test_channel_delivery import probe as probe  # the fixture
from tests.api.webhooks_helpers import Receiver, make_endpoint, verified
from tests.api.webhooks_helpers import receiver as receiver  # the fixture
from tests.helpers import global_id

DANA = {"name": "Dana Diaz", "email": "dana@acme.example", "is_decision_maker": True}
EVE = {"name": "Eve Ortiz", "email": "eve@acme.example"}


async def test_attempts_settled_by_their_channel_are_events(world: World, probe: Probe, receiver: Receiver,
                                                            owner: Any, project: models.Project) -> None:
    _, secret = await make_endpoint(owner, project, receiver.url(), ["attempt.result_recorded"])
    acme = await world.account("Acme", DANA)
    bravo = await world.account("Bravo", EVE)
    await live(world, email_step(subject="Hello", body="First"))
    probe.answer = lambda delivery: (
        Delivered(provider_id="p-1") if delivery.address == "dana@acme.example"
        else DeliveryFailed(error="550 no such user", retryable=False, bounced=True))
    claimed = (await world.at(NINE)).claimed
    assert len(claimed) == 2
    assert len(await outbox.deliver_due()) == 2
    events = sorted((verified(secret, r) for r in receiver.received), key=lambda b: b["data"]["outcome"])
    assert [b["type"] for b in events] == ["attempt.result_recorded"] * 2
    by_row = {b["data"]["campaignAccountId"]: b["data"] for b in events}
    sent = by_row[global_id("CampaignAccount", acme.id)]
    bounced = by_row[global_id("CampaignAccount", bravo.id)]
    assert (sent["channel"], sent["outcome"], sent["attemptNumber"]) == ("EMAIL", "SENT", 1)
    assert bounced["outcome"] == "BOUNCED"
    assert {sent["attemptId"], bounced["attemptId"]} == {global_id("OutreachAttempt", pk) for pk in claimed}
    assert len({r.event_id for r in receiver.received}) == 2  # one event per attempt
