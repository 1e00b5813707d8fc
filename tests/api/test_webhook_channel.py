"""The ``webhook`` channel against a real receiver on 127.0.0.1: what it POSTs, signed so that the Standard
Webhooks reference implementation verifies it; retries (503 then success, 429 with Retry-After, timeouts,
connection refused) with backoff and full jitter inside the bounds, without sleeping for real; refusals that a
retry cannot fix; the configuration's validation."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from standardwebhooks.webhooks import Webhook
from strawberry.relay import to_base64

from outboundql.channels import AwaitingResult, Configured, Deferred, Delivery, DeliveryFailed
from outboundql.channels.webhook import Retry, WebhookChannel, url_problem
from outboundql.webhooks import signing
from tests.fakes.webhook_receiver import Answer, WebhookReceiver
from tests.fakes.webhook_receiver import webhook_receiver as webhook_receiver  # the fixture

SECRET = signing.new_secret()
RESULT_URL = "http://localhost:8000/channels/results/r1.token"


def delivery(**changes: Any) -> Delivery:
    values: dict[str, Any] = {
        "attempt_id": 42, "delivery_key": "attempt-42", "project_id": 1, "campaign_id": 7, "channel": "phone_call",
        "address": "+34600000001", "contact_name": "Dana Diaz", "account_name": "Acme", "subject": None,
        "body": "Ask Dana about the Q3 rollout.", "step": 1, "attempt_number": 2, "language": "es",
        "result_url": RESULT_URL,
    }
    return Delivery(**{**values, **changes})


def config(url: str, secret: str = SECRET) -> Configured:
    return Configured(project_id=1, kind="phone_call", settings={"url": url}, secrets={"signingSecret": secret})


class Sleeps:
    """The channel's sleep: records each wait instead of waiting."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def channel(sleeps: Sleeps, **changes: Any) -> WebhookChannel:
    return WebhookChannel(sleep=sleeps, draw=lambda: 0.5, **changes)


def verified(received: Any) -> Any:
    """The request's JSON, once the reference implementation verified its signature (and timestamp)."""
    return Webhook(SECRET).verify(received.raw, dict(received.headers))


async def test_an_accepted_attempt_is_posted_signed_and_handed_over(webhook_receiver: WebhookReceiver) -> None:
    webhook_receiver.enqueue(Answer(201, {"id": "CA-123", "status": "queued"}))
    sleeps = Sleeps()

    result = await channel(sleeps).deliver(delivery(), config(webhook_receiver.url))

    assert result == AwaitingResult(note="Handed to the provider (HTTP 201); awaiting its result.",
                                    provider_id="CA-123")
    [received] = webhook_receiver.requests
    assert received.path == "/hooks/outbound"
    assert received.headers["content-type"] == "application/json"
    assert received.headers["webhook-id"] == "attempt-42"
    assert abs(int(received.headers["webhook-timestamp"]) - datetime.now(UTC).timestamp()) < 60
    assert verified(received) == {
        "type": "outreach.attempt",
        "idempotencyKey": "attempt-42",
        "attemptId": to_base64("OutreachAttempt", 42),
        "campaignId": to_base64("Campaign", 7),
        "channel": "PHONE_CALL", "step": 1, "attemptNumber": 2, "language": "es",
        "account": {"name": "Acme"},
        "contact": {"name": "Dana Diaz", "address": "+34600000001"},
        "message": {"subject": None, "body": "Ask Dana about the Q3 rollout."},
        "resultUrl": RESULT_URL,
        "outcomes": ["CONNECTED", "VOICEMAIL", "NO_ANSWER", "BUSY", "FAILED"],
    }
    assert sleeps.waits == []


async def test_a_tampered_body_or_another_secret_does_not_verify(webhook_receiver: WebhookReceiver) -> None:
    await channel(Sleeps()).deliver(delivery(channel="sms", subject="Hi"), config(webhook_receiver.url))
    [received] = webhook_receiver.requests
    assert verified(received)["outcomes"] == ["SENT", "BOUNCED", "FAILED"]
    from standardwebhooks.webhooks import WebhookVerificationError

    with pytest.raises(WebhookVerificationError):
        Webhook(SECRET).verify(received.raw.replace(b"Acme", b"Acne"), dict(received.headers))
    with pytest.raises(WebhookVerificationError):
        Webhook(signing.new_secret()).verify(received.raw, dict(received.headers))


async def test_503_is_tried_again_with_backoff_and_full_jitter_then_accepted(
        webhook_receiver: WebhookReceiver) -> None:
    webhook_receiver.enqueue(Answer(503, text="busy"), Answer(502), Answer(200, {"providerId": 991}))
    sleeps = Sleeps()

    result = await channel(sleeps, retry=Retry(tries=4, base=1.0, cap=8.0, total=60)).deliver(
        delivery(), config(webhook_receiver.url))

    assert result == AwaitingResult(note="Handed to the provider (HTTP 200); awaiting its result.",
                                    provider_id="991")
    assert len(webhook_receiver.requests) == 3
    assert {r.headers["webhook-id"] for r in webhook_receiver.requests} == {"attempt-42"}  # one message, retried
    assert all(verified(r)["idempotencyKey"] == "attempt-42" for r in webhook_receiver.requests)
    assert sleeps.waits == [0.5, 1.0]  # draw 0.5 × 1 s, then × 2 s


async def test_jitter_is_drawn_between_zero_and_the_capped_backoff() -> None:
    retry = Retry(base=0.5, cap=3.0)
    assert [retry.backoff(n, lambda: 1.0) for n in range(1, 6)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    assert [retry.backoff(n, lambda: 0.0) for n in range(1, 6)] == [0.0] * 5


async def test_retry_after_is_honoured_within_the_bound(webhook_receiver: WebhookReceiver) -> None:
    webhook_receiver.enqueue(Answer(429, headers={"Retry-After": "7"}), Answer(202))
    sleeps = Sleeps()
    result = await channel(sleeps, retry=Retry(total=30)).deliver(delivery(), config(webhook_receiver.url))
    assert isinstance(result, AwaitingResult)
    assert sleeps.waits == [7.0]


async def test_a_retry_after_beyond_the_bound_gives_up_as_a_temporary_failure(
        webhook_receiver: WebhookReceiver) -> None:
    webhook_receiver.enqueue(Answer(429, headers={"Retry-After": "3600"}, text="slow down"))
    sleeps = Sleeps()
    result = await channel(sleeps, retry=Retry(total=30)).deliver(delivery(), config(webhook_receiver.url))
    assert result == DeliveryFailed("The webhook failed after 1 tries: the webhook answered HTTP 429: slow down "
                                    "(it asked to wait 3600 s)", retryable=True)
    assert sleeps.waits == []
    assert len(webhook_receiver.requests) == 1


async def test_exhausted_retries_are_a_temporary_failure(webhook_receiver: WebhookReceiver) -> None:
    webhook_receiver.enqueue(*[Answer(500, {"error": "boom"})] * 3)
    sleeps = Sleeps()
    result = await channel(sleeps, retry=Retry(tries=3)).deliver(delivery(), config(webhook_receiver.url))
    assert result == DeliveryFailed('The webhook failed after 3 tries: the webhook answered HTTP 500: '
                                    '{"error": "boom"}', retryable=True)
    assert len(webhook_receiver.requests) == 3
    assert len(sleeps.waits) == 2


class Time:
    """A monotonic clock the channel's sleep moves (nothing waits for real)."""

    def __init__(self) -> None:
        self.now = 0.0
        self.waits: list[float] = []

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds


async def test_the_total_time_bound_stops_retrying(webhook_receiver: WebhookReceiver) -> None:
    webhook_receiver.enqueue(*[Answer(503)] * 4)
    time = Time()
    result = await WebhookChannel(sleep=time.sleep, draw=lambda: 1.0, monotonic=time.monotonic,
                                  retry=Retry(tries=4, base=2.0, total=5)).deliver(
        delivery(), config(webhook_receiver.url))
    assert result == DeliveryFailed("The webhook failed after 2 tries: the webhook answered HTTP 503: (no body)",
                                    retryable=True)
    assert len(webhook_receiver.requests) == 2
    assert time.waits == [2.0]  # then 4 s more would end after the 5 s bound


async def test_after_a_failed_delivery_the_next_ones_to_that_url_wait_a_while(
        webhook_receiver: WebhookReceiver) -> None:
    webhook_receiver.enqueue(*[Answer(503)] * 2)
    time = Time()
    webhook = WebhookChannel(sleep=time.sleep, draw=lambda: 1.0, monotonic=time.monotonic,
                             retry=Retry(tries=2, base=1.0, pause=60))
    first = await webhook.deliver(delivery(), config(webhook_receiver.url))
    assert isinstance(first, DeliveryFailed) and first.retryable
    time.now += 20
    second = await webhook.deliver(delivery(attempt_id=43, delivery_key="attempt-43"), config(webhook_receiver.url))
    assert isinstance(second, Deferred)
    assert abs((second.until - datetime.now(UTC)).total_seconds() - 41) < 5  # what is left of the pause
    assert second.reason.startswith("the webhook failed every try moments ago")
    assert len(webhook_receiver.requests) == 2  # the second attempt sent nothing
    time.now += 45  # the pause is over: it is tried again, and a success ends the pause
    third = await webhook.deliver(delivery(attempt_id=43, delivery_key="attempt-43"), config(webhook_receiver.url))
    assert isinstance(third, AwaitingResult)
    assert isinstance(await webhook.deliver(delivery(attempt_id=44, delivery_key="attempt-44"),
                                            config(webhook_receiver.url)), AwaitingResult)
    assert [r.headers["webhook-id"] for r in webhook_receiver.requests] == [
        "attempt-42", "attempt-42", "attempt-43", "attempt-44"]


async def test_a_long_retry_after_pauses_deliveries_that_long(webhook_receiver: WebhookReceiver) -> None:
    webhook_receiver.enqueue(Answer(503, headers={"Retry-After": "600"}))
    time = Time()
    webhook = WebhookChannel(sleep=time.sleep, monotonic=time.monotonic, retry=Retry(total=30, pause=60))
    assert isinstance(await webhook.deliver(delivery(), config(webhook_receiver.url)), DeliveryFailed)
    time.now += 100
    later = await webhook.deliver(delivery(attempt_id=43), config(webhook_receiver.url))
    assert isinstance(later, Deferred)
    assert abs((later.until - datetime.now(UTC)).total_seconds() - 500) < 5
    other = await webhook.deliver(delivery(attempt_id=43), config(webhook_receiver.url + "/other"))
    assert isinstance(other, AwaitingResult)  # another URL is another provider


async def test_a_huge_answer_is_read_only_in_part(webhook_receiver: WebhookReceiver) -> None:
    webhook_receiver.enqueue(Answer(400, text="refused " + "y" * 500_000))
    result = await channel(Sleeps()).deliver(delivery(), config(webhook_receiver.url))
    assert result == DeliveryFailed("The webhook refused the attempt: the webhook answered HTTP 400: refused "
                                    + "y" * 192 + "…", retryable=False)


async def test_a_400_is_a_permanent_failure_with_the_answer(webhook_receiver: WebhookReceiver) -> None:
    webhook_receiver.enqueue(Answer(400, {"error": "phone number not callable: +34600000001"}))
    sleeps = Sleeps()
    result = await channel(sleeps).deliver(delivery(), config(webhook_receiver.url))
    assert result == DeliveryFailed('The webhook refused the attempt: the webhook answered HTTP 400: '
                                    '{"error": "phone number not callable: +34600000001"}', retryable=False)
    assert len(webhook_receiver.requests) == 1
    assert sleeps.waits == []


@pytest.mark.parametrize("status", [401, 404, 422, 301])
async def test_other_refusals_are_not_retried(webhook_receiver: WebhookReceiver, status: int) -> None:
    webhook_receiver.enqueue(Answer(status, text="x" * 500, headers={"Location": "https://elsewhere.example/"}))
    result = await channel(Sleeps()).deliver(delivery(), config(webhook_receiver.url))
    assert isinstance(result, DeliveryFailed) and not result.retryable
    assert f"HTTP {status}: " + "x" * 200 + "…" in result.error
    assert len(webhook_receiver.requests) == 1


@pytest.mark.parametrize("status", [408, 429, 500, 504])
async def test_temporary_answers_are_retried(webhook_receiver: WebhookReceiver, status: int) -> None:
    webhook_receiver.enqueue(Answer(status), Answer(200))
    result = await channel(Sleeps()).deliver(delivery(), config(webhook_receiver.url))
    assert result == AwaitingResult(note="Handed to the provider (HTTP 200); awaiting its result.", provider_id=None)
    assert len(webhook_receiver.requests) == 2


async def test_a_timeout_is_tried_again(webhook_receiver: WebhookReceiver) -> None:
    webhook_receiver.enqueue(Answer(200, delay=0.5), Answer(202, {"id": "late-but-fine"}))
    sleeps = Sleeps()
    result = await channel(sleeps, timeout=httpx.Timeout(0.1)).deliver(delivery(), config(webhook_receiver.url))
    assert result == AwaitingResult(note="Handed to the provider (HTTP 202); awaiting its result.",
                                    provider_id="late-but-fine")
    assert len(webhook_receiver.requests) == 2
    assert len(sleeps.waits) == 1


async def test_timeouts_every_time_are_a_temporary_failure(webhook_receiver: WebhookReceiver) -> None:
    webhook_receiver.enqueue(*[Answer(200, delay=0.5)] * 2)
    result = await channel(Sleeps(), timeout=httpx.Timeout(0.1), retry=Retry(tries=2)).deliver(
        delivery(), config(webhook_receiver.url))
    assert result == DeliveryFailed("The webhook failed after 2 tries: the webhook did not answer in time",
                                    retryable=True)


async def test_an_unreachable_receiver_is_a_temporary_failure() -> None:
    closed = WebhookReceiver()  # bound, never listening: connections are refused
    url = closed.url
    closed.stop()
    sleeps = Sleeps()
    result = await channel(sleeps, retry=Retry(tries=3)).deliver(delivery(), config(url))
    assert isinstance(result, DeliveryFailed) and result.retryable
    assert result.error.startswith("The webhook failed after 3 tries: the webhook could not be reached (ConnectError")
    assert len(sleeps.waits) == 2


@pytest.mark.parametrize(("values", "secrets", "problem"), [
    ({"url": "http://provider.example/hook"}, {"signingSecret": SECRET}, "The webhook channel is misconfigured: "
     "The URL must use https (http is accepted only for localhost, 127.0.0.1 or ::1)."),
    ({"url": "https://provider.example/hook"}, {"signingSecret": "hunter2"}, "The webhook channel is "
     "misconfigured: The signing secret is whsec_ followed by the base64 of at least 16 random bytes (the Standard "
     "Webhooks format), e.g. as the provider shows it."),
    ({}, {"signingSecret": SECRET}, "The webhook channel is misconfigured: Give the URL the provider receives "
     "attempts at (https://…)."),
])
async def test_a_misconfigured_channel_fails_for_good_without_a_request(
        values: dict[str, Any], secrets: dict[str, str], problem: str) -> None:
    result = await channel(Sleeps()).deliver(delivery(), Configured(project_id=1, kind="sms", settings=values,
                                                                    secrets=secrets))
    assert result == DeliveryFailed(problem, retryable=False)


@pytest.mark.parametrize(("url", "ok"), [
    ("https://api.provider.example/v1/calls?tenant=9", True),
    ("https://10.0.0.5:8443/hook", True),
    ("http://localhost:9000/hook", True),
    ("http://127.0.0.1/hook", True),
    ("http://127.8.9.1/hook", True),
    ("http://[::1]:9000/hook", True),
    ("http://provider.example/hook", False),
    ("http://10.0.0.5/hook", False),
    ("http://localhost.provider.example/hook", False),
    ("ftp://provider.example/hook", False),
    ("https:///nohost", False),
    ("provider.example/hook", False),
    ("https://provider.example:99999/hook", False),
    ("https://provider.example/a b", False),
    ("https://provider.example/" + "a" * 2000, False),
    ("", False),
])
def test_urls(url: str, ok: bool) -> None:
    assert (url_problem(url) is None) is ok, url_problem(url)


def test_validate_names_each_bad_setting() -> None:
    webhook = WebhookChannel()
    assert webhook.validate({"url": "https://p.example/h"}, {"signingSecret": SECRET}) == {}
    assert webhook.validate({"url": "https://p.example/h"}, {}) == {}  # the stored secret is kept
    assert set(webhook.validate({"url": "http://p.example/h"}, {"signingSecret": "whsec_short"})) == {
        "url", "signingSecret"}
