"""A calling campaign delivered through the ``webhook`` channel to a receiver the test starts on 127.0.0.1, and
results coming back through the signed result link (``POST /channels/results/<token>``) or ``recordAttemptResult``
with an API token: both drive the retry policy. Then each refusal of the link (404, 401, 400, 409, 413) and the
channel's configuration checks."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from standardwebhooks.webhooks import Webhook

from outboundql import models
from outboundql.channels import links
from outboundql.enums import Channel
from outboundql.services import channel_configs, result_callbacks
from outboundql.services.access import Access
from outboundql.services.clock import FakeClock
from outboundql.webhooks import signing
from tests.api.cadence_world import MONDAY_8, World, call_step, counts, gid, iso, pk
from tests.api.cadence_world import world as world  # the fixture
from tests.fakes.webhook_receiver import Received, WebhookReceiver
from tests.fakes.webhook_receiver import webhook_receiver as webhook_receiver  # the fixture
from tests.helpers import data_of

NINE = MONDAY_8 + timedelta(hours=1)
SECRET = signing.new_secret()
DANA = {"name": "Dana Diaz", "phone": "+34600000001", "is_decision_maker": True}
BEA = {"name": "Bea Blanco", "phone": "+34600000009"}
CAL = {"name": "Cal Cruz", "phone": "+34600000017"}


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(MONDAY_8)


CONFIGURE = """
mutation($input: ConfigureChannelInput!) {
  configureChannel(input: $input) {
    channel { kind key settings secretsSet plugin { key } }
    errors { code field message }
  }
}
"""


async def configure_call(world: World, kind: str = "PHONE_CALL", **input: Any) -> dict[str, Any]:
    """configureChannel of the webhook channel for ``kind``, by the project's owner: the payload."""
    return dict(data_of(await world.gql(CONFIGURE, {"input": {
        "projectId": gid("Project", world.project), "key": "webhook", "kind": kind, **input}},
        as_=world.owner))["configureChannel"])


async def configure(world: World, url: str, secret: str = SECRET) -> None:
    """The project delivers its phone calls through the webhook channel."""
    payload = await configure_call(world, settings={"url": url}, secrets={"signingSecret": secret})
    assert payload["errors"] == []
    assert payload["channel"] == {"kind": "PHONE_CALL", "key": "webhook", "settings": {"url": url},
                                  "secretsSet": ["signingSecret"], "plugin": {"key": "webhook"}}


async def calling_campaign(world: World, receiver: WebhookReceiver, *contacts: tuple[str, dict[str, Any]],
                           **retry: Any) -> list[models.CampaignAccount]:
    """A live ON_ADD calling campaign (one PHONE_CALL step, NO_ANSWER and BUSY retried) over the webhook channel,
    with one row per (account name, contact)."""
    await configure(world, receiver.url)
    rows = [await world.account(name, contact) for name, contact in contacts]
    await world.cadence(steps=[call_step(body="Ask {{contact.name}} about the Q3 rollout.")],
                        executionMode="ON_ADD", retry={"maxAttempts": 3, **retry})
    await world.go_live()
    return rows


def reference_verified(received: Received, at: datetime) -> Any:
    """The request's JSON, once its signature was recomputed with the Standard Webhooks reference implementation
    and matched (its timestamp is the engine's clock, ``at``, so the reference's check of it against the wall clock
    does not apply)."""
    headers = received.headers
    assert int(headers["webhook-timestamp"]) == int(at.timestamp())
    expected = Webhook(SECRET).sign(headers["webhook-id"], at, received.raw.decode())
    assert expected in headers["webhook-signature"].split(" ")
    return received.json


def signed(body: bytes, at: datetime, *, secret: str = SECRET, msg_id: str = "msg_1") -> dict[str, str]:
    """Headers of a callback the provider signs (the reference implementation's signature)."""
    return {"webhook-id": msg_id, "webhook-timestamp": str(int(at.timestamp())),
            "webhook-signature": Webhook(secret).sign(msg_id, at, body.decode()),
            "content-type": "application/json"}


async def call_back(client: httpx.AsyncClient, result_url: str, report: dict[str, Any], at: datetime,
                    **signing_: Any) -> httpx.Response:
    """The provider POSTs ``report`` to the attempt's result link, signed at ``at``."""
    body = json.dumps(report).encode()
    return await client.post(urlsplit(result_url).path, content=body, headers=signed(body, at, **signing_))


def by_attempt(receiver: WebhookReceiver) -> dict[str, dict[str, Any]]:
    """What the receiver got, by attempt global id (the last request of each)."""
    return {r.json["attemptId"]: r.json for r in receiver.requests}


# --- the calling campaign end to end --------------------------------------------------------------------------


async def test_a_calling_campaign_runs_through_the_webhook_channel(
        world: World, webhook_receiver: WebhookReceiver, client: httpx.AsyncClient) -> None:
    acme, bravo, cosmo = await calling_campaign(world, webhook_receiver, ("Acme", DANA), ("Bravo", BEA),
                                                ("Cosmo", CAL))
    await world.at(NINE)
    first = {name: await world.only_attempt(row) for name, row in (("acme", acme), ("bravo", bravo),
                                                                     ("cosmo", cosmo))}
    assert {a["status"] for a in first.values()} == {"AWAITING_RESULT"}
    assert len(webhook_receiver.requests) == 3
    for received in webhook_receiver.requests:
        assert received.headers["webhook-id"] == f"attempt-{pk({'id': received.json['attemptId']})}"
        reference_verified(received, NINE)
    sent = by_attempt(webhook_receiver)
    acme_call = sent[first["acme"]["id"]]
    assert acme_call == {
        "type": "outreach.attempt", "idempotencyKey": f"attempt-{pk(first['acme'])}",
        "attemptId": first["acme"]["id"], "campaignId": world.gid, "channel": "PHONE_CALL", "step": 1,
        "attemptNumber": 1, "language": "en", "account": {"name": "Acme"},
        "contact": {"name": "Dana Diaz", "address": "+34600000001"},
        "message": {"subject": None, "body": "Ask Dana Diaz about the Q3 rollout."},
        "resultUrl": links.url(links.RESULT, pk(first["acme"])),
        "outcomes": ["CONNECTED", "VOICEMAIL", "NO_ANSWER", "BUSY", "FAILED"],
    }

    # Bravo: connected, the goal achieved → the row completes.
    world.clock.set(NINE + timedelta(minutes=4))
    done = await call_back(client, sent[first["bravo"]["id"]]["resultUrl"],
                           {"outcome": "connected", "goalAchieved": True, "notes": "Demo booked for Thursday.",
                            "signals": [{"kind": "timing", "text": "Rollout in Q3"}, "Demo with the CFO"],
                            "duration": 312}, world.clock.now())
    assert done.status_code == 200, done.text
    assert done.json() == {
        "attempt": {"id": first["bravo"]["id"], "status": "DONE", "outcome": "CONNECTED", "goalAchieved": True},
        "campaignAccount": {"id": gid("CampaignAccount", bravo), "executionStatus": "COMPLETED",
                            "goalOutcome": "ACHIEVED"},
        "nextAttempt": None}
    bravo_view = await world.row(bravo)
    assert (bravo_view["goalOutcome"], bravo_view["execution"]["status"]) == ("ACHIEVED", "COMPLETED")
    [bravo_call] = bravo_view["attempts"]
    assert (bravo_call["notes"], bravo_call["message"]["originalText"], bravo_call["message"]["outcome"]) == (
        "Demo booked for Thursday.", "Demo booked for Thursday.", "CONNECTED")
    assert [(x.kind, x.text, x.status.value, x.source) for x in await models.Signal.filter(
        campaign_account_id=bravo.id).order_by("id")] == [
        ("timing", "Rollout in Q3", "confirmed", "person"), ("other", "Demo with the CFO", "confirmed", "person")]
    again = await call_back(client, sent[first["bravo"]["id"]]["resultUrl"],
                            {"outcome": "CONNECTED", "goalAchieved": True, "notes": "Demo booked for Thursday.",
                             "signals": [{"kind": "timing", "text": "Rollout in Q3"}, "Demo with the CFO"]},
                            world.clock.now(), msg_id="msg_2")
    assert (again.status_code, again.json()) == (200, done.json())  # a repeat answers as the first
    assert await models.Message.filter(campaign_account_id=bravo.id).count() == 1

    # Cosmo: the provider's result comes through recordAttemptResult with an API token instead.
    recorded = await world.record(first["cosmo"]["id"], "NO_ANSWER", notes="Straight to nothing.")
    assert recorded["errors"] == []
    assert (recorded["nextAttempt"]["attemptNumber"], recorded["nextAttempt"]["dueAt"]) == (
        2, iso(NINE + timedelta(minutes=64)))

    # Acme: no answer, three times → retried per the policy until MAX_RETRIES.
    acme_attempt = first["acme"]
    for number, at in ((1, NINE), (2, NINE + timedelta(minutes=64)), (3, NINE + timedelta(minutes=128))):
        if number > 1:
            await world.at(at)
            acme_attempt = await world.only_attempt(acme)
            assert (acme_attempt["attemptNumber"], acme_attempt["status"], acme_attempt["executedAt"]) == (
                number, "AWAITING_RESULT", iso(at))
        call = by_attempt(webhook_receiver)[acme_attempt["id"]]
        assert (call["attemptNumber"], call["contact"]) == (number, {"name": "Dana Diaz", "address": "+34600000001"})
        world.clock.set(at + timedelta(minutes=4))
        answer = await call_back(client, call["resultUrl"], {"outcome": "NO_ANSWER"}, world.clock.now())
        assert answer.status_code == 200, answer.text
        following = answer.json()["nextAttempt"]
        if number < 3:
            assert answer.json()["campaignAccount"]["executionStatus"] == "RESCHEDULED"
            assert (following["attemptNumber"], following["status"], following["dueAt"]) == (
                number + 1, "SCHEDULED", iso(at + timedelta(minutes=64)))
        else:
            assert following is None
            assert answer.json()["campaignAccount"] == {"id": gid("CampaignAccount", acme),
                                                        "executionStatus": "MAX_RETRIES", "goalOutcome": "OPEN"}
    acme_view = await world.row(acme)
    assert acme_view["execution"] == {"status": "MAX_RETRIES", "attemptsMade": 3, "maxAttempts": 3,
                                      "nextAttempt": None}
    assert [(a["attemptNumber"], a["outcome"]) for a in reversed(acme_view["attempts"])] == [
        (1, "NO_ANSWER"), (2, "NO_ANSWER"), (3, "NO_ANSWER")]
    # Cosmo's retry went out with Acme's second call; every request verified with the reference algorithm.
    cosmo_calls = [r for r in webhook_receiver.requests if r.json["account"]["name"] == "Cosmo"]
    assert [(c.json["attemptNumber"], int(c.headers["webhook-timestamp"])) for c in cosmo_calls] == [
        (1, int(NINE.timestamp())), (2, int((NINE + timedelta(minutes=64)).timestamp()))]
    assert len(webhook_receiver.requests) == 6  # Acme 3, Bravo 1, Cosmo 2
    view = await world.view()
    assert counts(view["executionCounts"]) == {"MAX_RETRIES": 1, "COMPLETED": 1, "EXECUTING": 1}
    assert counts(view["goalOutcomeCounts"]) == {"ACHIEVED": 1, "OPEN": 2}
    audit = await models.AuditEvent.filter(action="attempt.result", object_id=pk(first["bravo"])).first()
    assert audit is not None and audit.actor_id is None  # recorded by the engine, on the project's behalf


async def test_a_refused_call_is_tried_with_the_next_contact(
        world: World, webhook_receiver: WebhookReceiver) -> None:
    from tests.fakes.webhook_receiver import Answer

    await configure(world, webhook_receiver.url)
    row = await world.account("Acme", DANA, BEA)
    await world.cadence(steps=[call_step()], executionMode="ON_ADD")
    await world.go_live()
    webhook_receiver.enqueue(Answer(422, {"error": "number on the provider's do-not-call list"}))
    await world.at(NINE)
    view = await world.row(row)
    failed = view["attempts"][-1]
    assert (failed["status"], failed["outcome"], failed["contact"]) == ("FAILED", "FAILED", {"name": "Dana Diaz"})
    assert failed["error"] == ('The webhook refused the attempt: the webhook answered HTTP 422: '
                               '{"error": "number on the provider\'s do-not-call list"}')
    following = view["execution"]["nextAttempt"]
    assert (following["contact"], following["attemptNumber"]) == ({"name": "Bea Blanco"}, 1)


async def test_a_provider_outage_fails_one_attempt_and_defers_the_others(
        world: World, webhook_receiver: WebhookReceiver, monkeypatch: pytest.MonkeyPatch) -> None:
    from outboundql.channels.webhook import WEBHOOK
    from tests.fakes.webhook_receiver import Answer

    waits: list[float] = []
    ticks = [0.0]

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    monkeypatch.setattr(WEBHOOK, "_sleep", sleep)
    monkeypatch.setattr(WEBHOOK, "_monotonic", lambda: ticks[0])
    monkeypatch.setattr(WEBHOOK, "_down", {})
    acme, bravo = await calling_campaign(world, webhook_receiver, ("Acme", DANA), ("Bravo", BEA),
                                         retryOn=["NO_ANSWER", "BUSY", "FAILED"])
    webhook_receiver.enqueue(*[Answer(503, text="all lines down")] * 4)

    await world.at(NINE)
    [failed] = (await world.row(acme))["attempts"][1:]  # newest first: the retry, then the failed call
    assert (failed["status"], failed["outcome"], failed["error"]) == (
        "FAILED", "FAILED", "The webhook failed after 4 tries: the webhook answered HTTP 503: all lines down")
    retry = await world.only_attempt(acme)
    assert (retry["attemptNumber"], retry["dueAt"]) == (2, iso(NINE + timedelta(minutes=60)))
    deferred = await world.only_attempt(bravo)
    assert (deferred["attemptNumber"], deferred["status"], deferred["dueAt"], deferred["error"]) == (
        1, "SCHEDULED", iso(NINE + timedelta(minutes=1)), "Deferred by the webhook channel: the webhook failed "
        "every try moments ago; this attempt waits instead of adding to the load")
    assert len(webhook_receiver.requests) == 4  # Acme's call, tried four times; Bravo's waited
    assert len(waits) == 3

    ticks[0] += 61  # the pause is over, the provider is back
    await world.at(NINE + timedelta(minutes=1))
    assert (await world.only_attempt(bravo))["status"] == "AWAITING_RESULT"
    await world.at(NINE + timedelta(minutes=60))
    second = await world.only_attempt(acme)
    assert (second["attemptNumber"], second["status"]) == (2, "AWAITING_RESULT")
    assert [(r.json["account"]["name"], r.json["attemptNumber"]) for r in webhook_receiver.requests[4:]] == [
        ("Bravo", 1), ("Acme", 2)]


# --- refusals of the result link --------------------------------------------------------------------------


async def executed(world: World, receiver: WebhookReceiver) -> tuple[models.CampaignAccount, dict[str, Any], str]:
    """Acme's first call, executed at 09:00 through the webhook channel: its row, the attempt, its result link."""
    [row] = await calling_campaign(world, receiver, ("Acme", DANA))
    await world.at(NINE)
    attempt = await world.only_attempt(row)
    return row, attempt, by_attempt(receiver)[attempt["id"]]["resultUrl"]


async def test_a_link_that_is_not_valid_is_404(world: World, webhook_receiver: WebhookReceiver,
                                               client: httpx.AsyncClient) -> None:
    _, attempt, url = await executed(world, webhook_receiver)
    for bad in ("/channels/results/nonsense", urlsplit(url).path[:-2] + "xx",
                "/channels/results/" + links.token(links.RESULT, 999_999),
                "/channels/results/" + links.token(links.UNSUBSCRIBE, pk(attempt))):
        answer = await call_back(client, bad, {"outcome": "NO_ANSWER"}, NINE)
        assert (answer.status_code, answer.json()) == (404, {"error": "This result link is not valid.",
                                                              "problems": []}), bad
    assert (await world.only_attempt(await models.CampaignAccount.get(campaign_id=world.campaign.id)))[
        "status"] == "AWAITING_RESULT"


@pytest.mark.parametrize(("headers", "message"), [
    ({}, "missing or malformed webhook-id, webhook-timestamp or webhook-signature header"),
    ({"webhook-secret": "another"}, "no webhook-signature matches the secret"),
    ({"at": NINE - timedelta(minutes=6)}, "webhook-timestamp is too far from now (a replay, or a clock out of step)"),
    ({"at": NINE + timedelta(minutes=6)}, "webhook-timestamp is too far from now (a replay, or a clock out of step)"),
    ({"tamper": True}, "no webhook-signature matches the secret"),
])
async def test_an_unsigned_or_badly_signed_report_is_401(
        world: World, webhook_receiver: WebhookReceiver, client: httpx.AsyncClient, headers: dict[str, Any],
        message: str) -> None:
    row, _, url = await executed(world, webhook_receiver)
    body = json.dumps({"outcome": "CONNECTED", "goalAchieved": True}).encode()
    if not headers:
        sent = {"content-type": "application/json"}
    else:
        secret = signing.new_secret() if "webhook-secret" in headers else SECRET
        sent = signed(body, headers.get("at", NINE), secret=secret)
    if headers.get("tamper"):
        body = body.replace(b"true", b"false")
    answer = await client.post(urlsplit(url).path, content=body, headers=sent)
    assert (answer.status_code, answer.json()) == (401, {
        "error": f"The request is not signed with the channel's signing secret: {message}.", "problems": []})
    assert (await world.only_attempt(row))["status"] == "AWAITING_RESULT"


async def test_without_a_signing_secret_configured_nothing_is_accepted(
        world: World, webhook_receiver: WebhookReceiver, client: httpx.AsyncClient) -> None:
    _, _, url = await executed(world, webhook_receiver)
    await channel_configs.remove_channel(await Access.for_user(world.owner.user), channel_configs.RemoveChannel(
        project_id=world.project.id, kind=Channel.PHONE_CALL))
    answer = await call_back(client, url, {"outcome": "NO_ANSWER"}, NINE)
    assert answer.status_code == 401
    assert answer.json()["error"].startswith("The project's phone_call channel has no signing secret configured")


@pytest.mark.parametrize(("report", "problems"), [
    (b"not json", None),
    (b"[1, 2]", None),
    ({}, [("outcome", "outcome is required: one of SENT, BOUNCED, CONNECTED, VOICEMAIL, NO_ANSWER, BUSY, FAILED.")]),
    ({"outcome": "ringing"}, [("outcome", "outcome 'ringing' is not one of SENT, BOUNCED, CONNECTED, VOICEMAIL, "
                                          "NO_ANSWER, BUSY, FAILED.")]),
    ({"outcome": "CONNECTED", "goalAchieved": "yes", "notes": 5, "signals": "budget"}, [
        ("goalAchieved", "goalAchieved is true, false or null."), ("notes", "notes is a string."),
        ("signals", 'signals is a list of {"kind": "<a kind of the campaign\'s goal>", "text": "…"} (or of strings, '
                    "filed as kind other).")]),
    ({"outcome": "CONNECTED", "signals": [{"text": "no kind"}]}, [
        ("signals", 'signals is a list of {"kind": "<a kind of the campaign\'s goal>", "text": "…"} (or of strings, '
                    "filed as kind other).")]),
    ({"outcome": "CONNECTED", "signals": [{"kind": "horoscope", "text": "Leo"}]}, [("signals[0].kind", None)]),
    ({"outcome": "SENT"}, [("outcome", "A call's outcome is CONNECTED, VOICEMAIL, NO_ANSWER, BUSY or FAILED.")]),
    ({"outcome": "BUSY", "goalAchieved": True}, [
        ("goalAchieved", "An attempt that came to busy cannot have achieved the goal.")]),
    ({"outcome": "CONNECTED", "signals": ["x" * 301]}, [("signals[0].text", None)]),
])
async def test_a_bad_body_is_400_saying_what_is_wrong(
        world: World, webhook_receiver: WebhookReceiver, client: httpx.AsyncClient, report: Any,
        problems: list[tuple[str, str | None]] | None) -> None:
    row, _, url = await executed(world, webhook_receiver)
    body = report if isinstance(report, bytes) else json.dumps(report).encode()
    answer = await client.post(urlsplit(url).path, content=body, headers=signed(body, NINE))
    assert answer.status_code == 400, answer.text
    got = answer.json()
    assert got["error"]
    if problems is None:
        assert got["problems"] == [] and "JSON" in got["error"]
    else:
        assert [p["field"] for p in got["problems"]] == [field for field, _ in problems]
        for p, (_, message) in zip(got["problems"], problems, strict=True):
            assert message is None or p["message"] == message
    assert (await world.only_attempt(row))["status"] == "AWAITING_RESULT"


async def test_a_result_for_an_attempt_not_awaiting_one_is_409(
        world: World, webhook_receiver: WebhookReceiver, client: httpx.AsyncClient) -> None:
    row, attempt, url = await executed(world, webhook_receiver)
    answer = await call_back(client, url, {"outcome": "NO_ANSWER"}, NINE)
    assert answer.status_code == 200
    following = answer.json()["nextAttempt"]
    other = await call_back(client, url, {"outcome": "CONNECTED"}, NINE)  # another result for a settled attempt
    assert other.status_code == 409
    assert other.json()["error"] == ("This attempt is done: a result is recorded once the attempt was executed "
                                     "(awaiting result), and only once.")
    scheduled = await call_back(client, links.url(links.RESULT, pk(following)), {"outcome": "NO_ANSWER"}, NINE)
    assert (scheduled.status_code, scheduled.json()["error"]) == (409, (
        "This attempt is scheduled: a result is recorded once the attempt was executed (awaiting result), and only "
        "once."))
    assert (await world.only_attempt(row))["id"] == following["id"]
    assert attempt["id"] != following["id"]


async def test_a_body_over_the_limit_is_413(world: World, webhook_receiver: WebhookReceiver,
                                            client: httpx.AsyncClient) -> None:
    row, _, url = await executed(world, webhook_receiver)
    body = json.dumps({"outcome": "NO_ANSWER", "notes": "x" * result_callbacks.MAX_BODY}).encode()
    answer = await client.post(urlsplit(url).path, content=body, headers=signed(body, NINE))
    assert (answer.status_code, answer.json()["error"]) == (413, "The body is larger than 65536 bytes.")

    async def chunks() -> Any:  # no Content-Length: the limit holds while reading
        for _ in range(5):
            yield b"x" * 20_000

    streamed = await client.post(urlsplit(url).path, content=chunks(), headers=signed(b"", NINE))
    assert streamed.status_code == 413
    assert (await world.only_attempt(row))["status"] == "AWAITING_RESULT"


# --- configuration --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("given", "secrets", "field", "message"), [
    ({"url": "http://provider.example/hook"}, {"signingSecret": SECRET}, "input.settings.url",
     "The URL must use https (http is accepted only for localhost, 127.0.0.1 or ::1)."),
    ({"url": "https://provider.example/hook"}, {"signingSecret": "not-a-secret"}, "input.secrets.signingSecret",
     "The signing secret is whsec_ followed by the base64 of at least 16 random bytes (the Standard Webhooks "
     "format), e.g. as the provider shows it."),
    ({"url": "https://provider.example/hook"}, {}, "input.secrets.signingSecret", "Signing secret is required: "
     "set it in secrets."),
])
async def test_the_configuration_is_checked(world: World, given: dict[str, Any], secrets: dict[str, str],
                                            field: str, message: str) -> None:
    payload = await configure_call(world, "SMS", settings=given, secrets=secrets)
    assert payload == {"channel": None, "errors": [{"code": "INVALID", "field": field, "message": message}]}
    assert await models.ChannelConfig.filter(project_id=world.project.id).count() == 0


async def test_an_https_configuration_is_kept_with_its_secret_sealed(world: World) -> None:
    payload = await configure_call(world, "SMS", settings={"url": "https://sms.provider.example/v1/send"},
                                   secrets={"signingSecret": SECRET})
    assert payload["errors"] == []
    assert SECRET not in json.dumps(payload)
    stored = await models.ChannelConfig.get(project_id=world.project.id, kind=Channel.SMS)
    assert stored.settings == {"url": "https://sms.provider.example/v1/send"}
    assert SECRET not in json.dumps(stored.secrets)
    [(plugin, configured)] = (await channel_configs.for_delivery(world.project.id, ["sms"])).values()
    assert (plugin.key, configured.secrets) == ("webhook", {"signingSecret": SECRET})
    kept = await configure_call(world, "SMS", settings={"url": "https://sms2.provider.example/v1/send"})
    assert (kept["errors"], kept["channel"]["secretsSet"]) == ([], ["signingSecret"])  # the secret is kept


def test_the_outcome_names_are_the_api_enum() -> None:
    from outboundql.channels.webhook import CALL_OUTCOMES, MESSAGE_OUTCOMES
    from outboundql.enums import AttemptOutcome

    assert set(CALL_OUTCOMES + MESSAGE_OUTCOMES) == {o.name for o in AttemptOutcome}
    assert datetime.now(UTC) > MONDAY_8  # the engine's clock, not the wall clock, stamps the signatures here
