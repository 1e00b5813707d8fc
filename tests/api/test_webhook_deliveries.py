"""Event webhooks end to end: events that happen (a campaign edited, a reply logged, an attempt's result) reach
the subscribed endpoints of their project, signed so the Standard Webhooks reference implementation verifies them;
a failing endpoint is retried on the backoff schedule (the injected clock moves) and then disabled with the
reason; redelivery sends the same event id again; the worker's job path; and two runners claiming at once
deliver each event once."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import dramatiq
import pytest

from outboundql import models
from outboundql.models.webhooks import WebhookDeliveryStatus
from outboundql.services import runtime
from outboundql.services import webhook_deliveries as outbox
from outboundql.services.clock import FakeClock
from tests.api.cadence_world import MONDAY_8
from tests.api.cadence_world import world as world  # the fixture
from tests.api.webhooks_helpers import Receiver, make_endpoint, verified
from tests.api.webhooks_helpers import receiver as receiver  # the fixture
from tests.helpers import Person, access_for, data_of, global_id

NOW = MONDAY_8
MONDAY_9 = MONDAY_8 + timedelta(hours=1)

UPDATE_CAMPAIGN = """
mutation($input: UpdateCampaignInput!) { updateCampaign(input: $input) { campaign { id } errors { code } } }
"""
LOG = """
mutation($input: LogMessageInput!) { logMessage(input: $input) { message { id } errors { code message } } }
"""
REDELIVER = """
mutation($input: RedeliverWebhookInput!) {
  redeliverWebhook(input: $input) {
    delivery { id eventId eventType status attempts payload } errors { code field message }
  }
}
"""
DELIVERY = "id eventType eventId status attempts nextAttemptAt responseStatus error deliveredAt createdAt payload"
ENDPOINT = f"""
query($id: ID!, $status: WebhookDeliveryStatus) {{
  node(id: $id) {{
    ... on WebhookEndpoint {{
      enabled disabledAt disabledReason
      deliveries(first: 20, status: $status) {{ totalCount edges {{ node {{ {DELIVERY} }} }} }}
    }}
  }}
}}
"""
UPDATE_ENDPOINT = """
mutation($input: UpdateWebhookEndpointInput!) {
  updateWebhookEndpoint(input: $input) { endpoint { enabled } errors { code } }
}
"""


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


async def rename(gql: Any, owner: Person, campaign: models.Campaign, name: str) -> None:
    answer = data_of(await gql(UPDATE_CAMPAIGN, {"input": {"id": global_id("Campaign", campaign.id), "name": name}},
                               as_=owner))["updateCampaign"]
    assert answer["errors"] == []


async def deliveries_of(gql: Any, owner: Person, endpoint: models.WebhookEndpoint,
                        status: str | None = None) -> dict[str, Any]:
    found = data_of(await gql(ENDPOINT, {"id": global_id("WebhookEndpoint", endpoint.id), "status": status},
                              as_=owner))["node"]
    found["deliveries"] = [e["node"] for e in found["deliveries"]["edges"]]
    return found


async def test_an_event_reaches_the_subscribed_endpoint_signed_and_no_other(
        gql, owner: Person, project: models.Project, campaign: models.Campaign, receiver: Receiver,
        make_project: Any) -> None:
    _, secret = await make_endpoint(owner, project, receiver.url("/sub"), ["campaign.updated"])
    await make_endpoint(owner, project, receiver.url("/unsub"), ["message.received"])
    elsewhere = await make_project(owner, "Elsewhere")
    await make_endpoint(owner, elsewhere, receiver.url("/other"), ["campaign.updated"])

    await rename(gql, owner, campaign, "Autumn push")
    assert len(await outbox.deliver_due()) == 1
    [request] = receiver.received
    assert request.path == "/sub"
    body = verified(secret, request)
    assert body == {"type": "campaign.updated", "timestamp": NOW.isoformat(),
                    "data": {"campaignId": global_id("Campaign", campaign.id)}}
    assert request.event_id.startswith("msg_")
    assert request.headers["webhook-timestamp"] == str(int(NOW.timestamp()))
    assert await outbox.deliver_due() == []  # delivered once

    from standardwebhooks.webhooks import WebhookVerificationError

    with pytest.raises(WebhookVerificationError):  # the reference refuses another secret and a changed body
        verified("whsec_" + "A" * 32, request)
    request.body = request.body.replace(b"campaign.updated", b"campaign.updatex")
    with pytest.raises(WebhookVerificationError):
        verified(secret, request)


async def test_the_delivery_log_and_a_reply_event(gql, owner: Person, project: models.Project,
                                                  campaign: models.Campaign, receiver: Receiver) -> None:
    endpoint, secret = await make_endpoint(owner, project, receiver.url(), ["message.received", "campaign.updated"])
    account = await models.Account.create(project=project, name="Acme")
    row = await models.CampaignAccount.create(campaign=campaign, account=account)
    logged = data_of(await gql(LOG, {"input": {"campaignAccountId": global_id("CampaignAccount", row.id),
                                               "text": "Interested!", "direction": "INBOUND"}}, as_=owner))
    assert logged["logMessage"]["errors"] == []
    outbound = data_of(await gql(LOG, {"input": {"campaignAccountId": global_id("CampaignAccount", row.id),
                                                 "text": "Thanks"}}, as_=owner))
    assert outbound["logMessage"]["errors"] == []  # an outbound message is no reply: no event
    before = await deliveries_of(gql, owner, endpoint)
    assert [(d["eventType"], d["status"], d["attempts"]) for d in before["deliveries"]] == [
        ("message.received", "PENDING", 0)]
    await outbox.deliver_due()
    [request] = receiver.received
    body = verified(secret, request)
    assert body["type"] == "message.received"
    assert body["data"] == {"messageId": logged["logMessage"]["message"]["id"],
                            "campaignId": global_id("Campaign", campaign.id),
                            "campaignAccountId": global_id("CampaignAccount", row.id),
                            "accountId": global_id("Account", account.id), "channel": "EMAIL",
                            "sentAt": body["data"]["sentAt"]}
    [delivery] = (await deliveries_of(gql, owner, endpoint))["deliveries"]
    assert delivery["status"] == "DELIVERED" and delivery["attempts"] == 1 and delivery["responseStatus"] == 200
    assert delivery["eventId"] == request.event_id and delivery["payload"] == body
    assert delivery["deliveredAt"] is not None and delivery["nextAttemptAt"] is None and delivery["error"] is None
    assert (await deliveries_of(gql, owner, endpoint, "FAILED"))["deliveries"] == []


async def test_a_failing_endpoint_is_retried_on_the_backoff_schedule_then_disabled(
        gql, owner: Person, project: models.Project, campaign: models.Campaign, receiver: Receiver,
        clock: FakeClock) -> None:
    receiver.status["/down"] = 500
    endpoint, _ = await make_endpoint(owner, project, receiver.url("/down"), ["campaign.updated"])
    await rename(gql, owner, campaign, "Autumn push")
    waits: list[timedelta] = []
    for attempt in range(1, outbox.MAX_ATTEMPTS + 1):
        assert len(await outbox.deliver_due()) == 1
        row = await models.WebhookDelivery.get()
        assert row.attempts == attempt and row.response_status == 500
        assert row.error == "HTTP 500: receiver broke"
        if attempt == outbox.MAX_ATTEMPTS:
            break
        assert row.status is WebhookDeliveryStatus.PENDING and row.next_attempt_at is not None
        wait = row.next_attempt_at - clock.now()
        waits.append(wait)
        expected = min(outbox.BASE_BACKOFF * 4 ** (attempt - 1), outbox.MAX_BACKOFF)
        assert expected * (1 - outbox.JITTER) <= wait <= expected * (1 + outbox.JITTER), (attempt, wait)
        clock.advance(wait - timedelta(seconds=1))
        assert await outbox.deliver_due() == []  # not due yet: nothing is sent early
        clock.advance(seconds=1)
    assert timedelta(hours=18) < sum(waits, timedelta()) < timedelta(hours=28)  # about a day of retries
    assert len(receiver.at("/down")) == outbox.MAX_ATTEMPTS
    assert len({r.event_id for r in receiver.at("/down")}) == 1  # every try is the same event

    seen = await deliveries_of(gql, owner, endpoint)
    [delivery] = seen["deliveries"]
    assert (delivery["status"], delivery["attempts"], delivery["nextAttemptAt"]) == ("FAILED", 8, None)
    assert seen["enabled"] is False and seen["disabledAt"] is not None
    assert "Disabled automatically" in seen["disabledReason"] and "HTTP 500" in seen["disabledReason"]

    # a disabled endpoint gets no new deliveries; enabled again, it starts afresh
    await rename(gql, owner, campaign, "Winter push")
    assert await models.WebhookDelivery.all().count() == 1
    enabled = data_of(await gql(UPDATE_ENDPOINT, {"input": {"id": global_id("WebhookEndpoint", endpoint.id),
                                                            "enabled": True}}, as_=owner))["updateWebhookEndpoint"]
    assert enabled == {"endpoint": {"enabled": True}, "errors": []}
    assert (await models.WebhookEndpoint.get()).consecutive_failures == 0


async def test_a_success_in_between_keeps_the_endpoint_enabled(
        gql, owner: Person, project: models.Project, campaign: models.Campaign, receiver: Receiver,
        clock: FakeClock) -> None:
    receiver.status["/flaky"] = 500
    await make_endpoint(owner, project, receiver.url("/flaky"), ["campaign.updated"])
    await rename(gql, owner, campaign, "One")
    for _ in range(outbox.MAX_ATTEMPTS - 1):
        await outbox.deliver_due()
        clock.set((await models.WebhookDelivery.get()).next_attempt_at or clock.now())
    clock.advance(seconds=-1)  # just before One's last try: another event goes through
    assert (await models.WebhookEndpoint.get()).consecutive_failures == outbox.MAX_ATTEMPTS - 1
    receiver.status["/flaky"] = 204
    await rename(gql, owner, campaign, "Two")
    assert len(await outbox.deliver_due()) == 1
    assert (await models.WebhookEndpoint.get()).consecutive_failures == 0
    receiver.status["/flaky"] = 500
    clock.advance(seconds=1)
    assert len(await outbox.deliver_due()) == 1  # One's last try fails
    statuses = await models.WebhookDelivery.all().order_by("id").values_list("status", flat=True)
    assert statuses == [WebhookDeliveryStatus.FAILED, WebhookDeliveryStatus.DELIVERED]
    endpoint = await models.WebhookEndpoint.get()
    assert endpoint.enabled and endpoint.consecutive_failures == 1 and endpoint.disabled_reason is None


async def test_redelivery_sends_the_same_event_id_again(
        gql, owner: Person, project: models.Project, campaign: models.Campaign, receiver: Receiver,
        make_user: Any, make_project: Any) -> None:
    endpoint, secret = await make_endpoint(owner, project, receiver.url(), ["campaign.updated"])
    await rename(gql, owner, campaign, "Autumn push")
    await outbox.deliver_due()
    first = await models.WebhookDelivery.get()
    again = data_of(await gql(REDELIVER, {"input": {"deliveryId": global_id("WebhookDelivery", first.id)}},
                              as_=owner))["redeliverWebhook"]
    assert again["errors"] == []
    assert again["delivery"]["eventId"] == first.event_id and again["delivery"]["status"] == "PENDING"
    assert again["delivery"]["payload"] == first.payload and again["delivery"]["attempts"] == 0
    await outbox.deliver_due()
    assert [r.event_id for r in receiver.received] == [first.event_id, first.event_id]
    assert verified(secret, receiver.received[1]) == verified(secret, receiver.received[0])
    log = (await deliveries_of(gql, owner, endpoint))["deliveries"]
    assert [(d["status"], d["eventId"]) for d in log] == [("DELIVERED", first.event_id)] * 2

    stranger = await make_user("stranger@example.com")
    await make_project(stranger, "Elsewhere")
    theirs = data_of(await gql(REDELIVER, {"input": {"deliveryId": global_id("WebhookDelivery", first.id)}},
                               as_=stranger))["redeliverWebhook"]
    assert theirs == {"delivery": None, "errors": [{"code": "NOT_FOUND", "field": "input.deliveryId",
                                                    "message": theirs["errors"][0]["message"]}]}
    await models.WebhookEndpoint.filter(id=endpoint.id).update(enabled=False)
    refused = data_of(await gql(REDELIVER, {"input": {"deliveryId": global_id("WebhookDelivery", first.id)}},
                                as_=owner))["redeliverWebhook"]
    assert [(e["code"], e["field"]) for e in refused["errors"]] == [("CONFLICT", "input.deliveryId")]
    assert await models.WebhookDelivery.all().count() == 2


async def test_an_attempt_result_event(world: Any, owner: Person, project: models.Project,
                                       receiver: Receiver) -> None:
    endpoint, secret = await make_endpoint(owner, project, receiver.url(), ["attempt.result_recorded"])
    row = await world.account("Acme", {"name": "Dana Diaz", "phone": "+34600000001"})
    await world.cadence(steps=[{"channel": "PHONE_CALL"}], executionMode="ON_ADD")
    await world.go_live()
    await world.at(MONDAY_9)
    attempt = await world.only_attempt(row)
    assert await models.WebhookDelivery.all().count() == 0  # going live and executing are other events
    payload = await world.record(attempt["id"], "CONNECTED", goalAchieved=True)
    assert payload["errors"] == []
    await outbox.deliver_due()
    [request] = receiver.received
    body = verified(secret, request)
    assert body["type"] == "attempt.result_recorded"
    assert body["data"] == {"attemptId": attempt["id"], "campaignId": world.gid,
                            "campaignAccountId": global_id("CampaignAccount", row.id), "channel": "PHONE_CALL",
                            "attemptNumber": 1, "outcome": "CONNECTED", "goalAchieved": True}
    assert (await models.WebhookDelivery.get()).endpoint_id == endpoint.id


async def test_the_tick_hands_claims_to_the_worker_and_a_lost_claim_is_taken_again(
        gql, owner: Person, project: models.Project, campaign: models.Campaign, receiver: Receiver,
        clock: FakeClock, stub_broker: Any) -> None:
    await make_endpoint(owner, project, receiver.url(), ["campaign.updated"])
    await rename(gql, owner, campaign, "Autumn push")
    token, claimed = await outbox.claim(clock.now())  # a claim whose job is lost
    assert len(claimed) == 1
    assert (await outbox.tick()).claimed == []  # held by its lease
    clock.advance(outbox.LEASE)
    assert (await outbox.tick()).claimed == claimed  # taken again once the lease ended
    await outbox.deliver(claimed, token)  # the lost job, late: its claim is no longer the row's
    assert receiver.received == []
    worker = dramatiq.Worker(stub_broker, worker_threads=1, worker_timeout=50)
    worker.start()
    try:
        await asyncio.to_thread(stub_broker.join, "webhooks", fail_fast=True)
        await asyncio.to_thread(worker.join)
    finally:
        await asyncio.to_thread(worker.stop)
    assert len(receiver.received) == 1
    assert (await models.WebhookDelivery.get()).status is WebhookDeliveryStatus.DELIVERED


async def test_two_runners_at_once_deliver_each_event_once(
        gql, owner: Person, project: models.Project, campaign: models.Campaign, receiver: Receiver) -> None:
    await make_endpoint(owner, project, receiver.url("/a"), ["campaign.updated"])
    await make_endpoint(owner, project, receiver.url("/b"), ["campaign.updated"])
    for i in range(30):
        await rename(gql, owner, campaign, f"Name {i}")
    assert await models.WebhookDelivery.all().count() == 60
    claims = await asyncio.gather(*(outbox.claim(runtime.now(), 4) for _ in range(6)))  # at once
    taken = [pk for _, batch in claims for pk in batch]
    assert len(taken) == 24 and len(set(taken)) == 24  # no row in two claims
    await models.WebhookDelivery.filter(id__in=taken).update(next_attempt_at=runtime.now())  # free again

    async def runner() -> list[int]:
        done: list[int] = []
        while batch := await outbox.deliver_due(claim_limit=7):
            done += batch
        return done

    first, second = await asyncio.gather(runner(), runner())
    assert sorted(first + second) == sorted(await models.WebhookDelivery.all().values_list("id", flat=True))
    assert not set(first) & set(second)
    for path in ("/a", "/b"):
        ids = [r.event_id for r in receiver.at(path)]
        assert len(ids) == 30 and len(set(ids)) == 30
    assert await models.WebhookDelivery.filter(status=WebhookDeliveryStatus.DELIVERED).count() == 60


async def test_the_end_of_a_scoring_run_and_of_an_import_job(
        owner: Person, project: models.Project, campaign: models.Campaign, receiver: Receiver, jobs: Any) -> None:
    from outboundql.goals.testing import registry_with
    from outboundql.services import imports, scoring_runs

    _, secret = await make_endpoint(owner, project, receiver.url(), ["scoring_run.finished", "import_job.finished"])
    await models.Persona.create(project=project, product_id=campaign.product_id, goal_key="sales", name="Ops",
                                industries=["Software"])
    for name in ("Acme", "Bravo"):
        account = await models.Account.create(project=project, name=name, industry="Software")
        await models.CampaignAccount.create(campaign=campaign, account=account)
    access = await access_for(owner)
    run = (await scoring_runs.score_campaign(access, registry_with(), scoring_runs.ScoreCampaign(
        campaign_id=campaign.id))).run
    job = (await imports.start_import(access, registry_with(), imports.StartImport(
        project_id=project.id, filename="list.csv", content=b"Company\nCharlie\nDelta\n"))).job
    assert job is not None
    await jobs()
    await outbox.deliver_due()
    bodies = sorted((verified(secret, r) for r in receiver.received), key=lambda b: b["type"])
    assert [(b["type"], b["data"]["status"]) for b in bodies] == [("import_job.finished", "COMPLETED"),
                                                                  ("scoring_run.finished", "COMPLETED")]
    assert bodies[0]["data"] == {"importJobId": global_id("ImportJob", job.id), "status": "COMPLETED", "done": 2,
                                 "total": 2}
    assert bodies[1]["data"] == {"campaignId": global_id("Campaign", campaign.id),
                                 "runId": global_id("ScoringRun", run.id), "status": "COMPLETED", "done": 2,
                                 "total": 2, "failed": 0}
