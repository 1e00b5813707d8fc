"""The built-in ``webhook`` channel: how a telephony, SMS or messaging provider is plugged in.

Each attempt is POSTed as JSON to the configured ``url``, signed per the Standard Webhooks scheme with the
configured ``signingSecret`` (`outboundql.webhooks.signing`: ``webhook-id`` is the attempt's delivery key, the
same on every try, so the receiver can drop a repeat; ``webhook-timestamp`` and ``webhook-signature`` are made
for each request). The body (`payload`)::

    {
      "type": "outreach.attempt",
      "idempotencyKey": "attempt-42",
      "attemptId": "<the OutreachAttempt's global id, as the API names it>",
      "campaignId": "<the Campaign's global id>",
      "channel": "PHONE_CALL", "step": 1, "attemptNumber": 2, "language": "en",
      "account": {"name": "Acme"},
      "contact": {"name": "Dana Diaz", "address": "+34600000001"},
      "message": {"subject": null, "body": "the script of the call, or the text to send"},
      "resultUrl": "https://…/channels/results/<token>",
      "outcomes": ["CONNECTED", "VOICEMAIL", "NO_ANSWER", "BUSY", "FAILED"]
    }

A 2xx answer hands the attempt over (`AwaitingResult`, with the provider's ``id`` or ``providerId`` from a JSON
answer). Connection errors, timeouts, 408, 429 and 5xx are tried again inside `deliver` with exponential backoff
and full jitter (a ``Retry-After`` is honoured when it fits), a few times and within a total time bound; then the
failure is temporary (`DeliveryFailed` ``retryable``: the campaign's retry policy decides), and for a short while
(`Retry.pause`) the next attempts to the same URL are `Deferred` rather than each waiting out its own tries. Any
other answer (another 4xx, a redirect) is a refusal a retry cannot fix (`DeliveryFailed`, not retryable). At most
`MAX_ANSWER` bytes of an answer are read.

The provider reports the result later: POST ``{outcome, goalAchieved, notes, signals}`` to ``resultUrl`` signed
with the same secret (`outboundql.channels.result_route`), or call ``recordAttemptResult`` with an API token.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
from strawberry.relay import to_base64

from outboundql.channels import (
    AwaitingResult,
    Configured,
    Deferred,
    Delivery,
    DeliveryFailed,
    DeliveryResult,
    Setting,
)
from outboundql.enums import Channel
from outboundql.services import runtime
from outboundql.webhooks import outbound, signing

Sleep = Callable[[float], Awaitable[None]]

KEY = "webhook"
EVENT_TYPE = "outreach.attempt"
#: The GraphQL type names the payload's global ids are made of (as the API's ``node(id)`` reads them).
ATTEMPT_TYPE = "OutreachAttempt"
CAMPAIGN_TYPE = "Campaign"
MAX_URL = 2000
#: Outcomes a provider may report, by kind of attempt (the API's enum names).
CALL_OUTCOMES = ("CONNECTED", "VOICEMAIL", "NO_ANSWER", "BUSY", "FAILED")
MESSAGE_OUTCOMES = ("SENT", "BOUNCED", "FAILED")
_EXCERPT = 200
#: The most of an answer read (its id, or an excerpt of why it refused).
MAX_ANSWER = 64 * 1024
_PROVIDER_ID = 500


@dataclass(frozen=True, kw_only=True, slots=True)
class Retry:
    """How `deliver` tries again: ``tries`` requests at most (the first included), waiting a random time up to
    ``base * 2**(n-1)`` seconds (full jitter, capped at ``cap``) before try ``n + 1``, and giving up when the
    next wait would end after ``total`` seconds from the first request."""

    tries: int = 4
    base: float = 0.5
    cap: float = 8.0
    total: float = 30.0
    pause: float = 60.0
    """After a delivery failed every try (or was told to wait longer than ``total``), deliveries to the same URL
    are `Deferred` this long (or as long as it asked) instead of each waiting out its own tries: a batch of
    attempts does not hammer a provider that is down, nor outlive its claim, nor spend its rows' attempts."""

    def backoff(self, done: int, draw: Callable[[], float]) -> float:
        """The wait after ``done`` failed tries."""
        return draw() * min(self.cap, self.base * 2.0 ** (done - 1))


DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=5.0)


def url_problem(value: object) -> str | None:
    """Why ``value`` cannot be a webhook URL (None: it can): an absolute ``https://`` URL with a host, or
    ``http://`` to this machine only (localhost, 127.0.0.0/8, ::1) for a provider's agent running beside the
    server; a host given as an address that is not public only when the operator allows private addresses
    (`outbound`)."""
    if not isinstance(value, str) or not value.strip():
        return "Give the URL the provider receives attempts at (https://…)."
    if len(value) > MAX_URL:
        return f"The URL is too long (at most {MAX_URL} characters)."
    try:
        parts = urlsplit(value)
        host = parts.hostname or ""
        parts.port  # noqa: B018 (a malformed port raises here)
    except ValueError:
        return "This is not a valid URL."
    if parts.scheme not in ("https", "http") or not host:
        return "The URL must be absolute: https://host/path."
    if any(c.isspace() for c in value):
        return "The URL cannot contain spaces."
    if parts.scheme == "http" and not outbound.loopback(host):
        return "The URL must use https (http is accepted only for localhost, 127.0.0.1 or ::1)."
    return outbound.literal_refusal(host, runtime.settings().webhook_private_addresses)


def secret_problem(value: object) -> str | None:
    """Why ``value`` cannot be the signing secret (None: it can)."""
    if not isinstance(value, str) or not signing.valid_secret(value):
        return ("The signing secret is whsec_ followed by the base64 of at least 16 random bytes "
                "(the Standard Webhooks format), e.g. as the provider shows it.")
    return None


def outcomes_for(channel: str) -> tuple[str, ...]:
    return CALL_OUTCOMES if channel == Channel.PHONE_CALL.value else MESSAGE_OUTCOMES


def payload(delivery: Delivery) -> dict[str, Any]:
    """What is POSTed for ``delivery`` (see the module docstring)."""
    return {
        "type": EVENT_TYPE,
        "idempotencyKey": delivery.delivery_key,
        "attemptId": to_base64(ATTEMPT_TYPE, delivery.attempt_id),
        "campaignId": to_base64(CAMPAIGN_TYPE, delivery.campaign_id),
        "channel": Channel(delivery.channel).name,
        "step": delivery.step,
        "attemptNumber": delivery.attempt_number,
        "language": delivery.language,
        "account": {"name": delivery.account_name},
        "contact": {"name": delivery.contact_name, "address": delivery.address},
        "message": {"subject": delivery.subject, "body": delivery.body},
        "resultUrl": delivery.result_url,
        "outcomes": list(outcomes_for(delivery.channel)),
    }


class WebhookChannel:
    """POSTs each attempt, signed, to a provider that reports the result later (see the module docstring).

    ``retry``, ``timeout``, ``sleep``, ``draw`` (a random number in [0, 1)) and ``monotonic`` are injectable so
    tests neither wait nor depend on chance."""

    key = KEY
    label = "Webhook (a telephony, SMS or messaging provider, over signed HTTP)"
    serves = frozenset(c.value for c in Channel)
    settings: tuple[Setting, ...] = (
        Setting(key="url", label="Endpoint URL", type="url", required=True,
                description="Where each attempt is POSTed as signed JSON: https (http only to localhost)."),
        Setting(key="signingSecret", label="Signing secret", secret=True, required=True,
                description="The Standard Webhooks secret (whsec_…) requests are signed with, both ways: the "
                            "provider checks the attempts it receives and signs the results it sends back."),
    )

    def __init__(self, *, retry: Retry | None = None, timeout: httpx.Timeout = DEFAULT_TIMEOUT,
                 sleep: Sleep = asyncio.sleep, draw: Callable[[], float] = random.random,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.retry = retry or Retry()
        self.timeout = timeout
        self._sleep, self._draw, self._monotonic = sleep, draw, monotonic
        self._down: dict[str, float] = {}  # URL → until when (monotonic) deliveries to it are deferred

    def validate(self, settings: Mapping[str, Any], secrets: Mapping[str, str]) -> dict[str, str]:
        """Problems of a configuration beyond the declared types, by setting key (empty: none)."""
        problems: dict[str, str] = {}
        if (problem := url_problem(settings.get("url"))) is not None:
            problems["url"] = problem
        if "signingSecret" in secrets and (problem := secret_problem(secrets["signingSecret"])) is not None:
            problems["signingSecret"] = problem
        return problems

    async def deliver(self, delivery: Delivery, config: Configured) -> DeliveryResult:
        url, secret = config.settings.get("url"), config.secrets.get("signingSecret")
        if (problem := url_problem(url)) is not None:
            return DeliveryFailed(f"The webhook channel is misconfigured: {problem}", retryable=False)
        if (problem := secret_problem(secret)) is not None:
            return DeliveryFailed(f"The webhook channel is misconfigured: {problem}", retryable=False)
        assert isinstance(url, str) and isinstance(secret, str)
        retry = self.retry
        if (left := self._down.get(url, 0.0) - self._monotonic()) > 0:
            return Deferred(until=runtime.now() + timedelta(seconds=left), reason=(
                "the webhook failed every try moments ago; this attempt waits instead of adding to the load"))
        body = json.dumps(payload(delivery), separators=(",", ":"), ensure_ascii=False).encode()
        started = self._monotonic()
        failure, pause = "", retry.pause
        async with outbound.client(self.timeout,
                                       private_allowed=runtime.settings().webhook_private_addresses) as http:
            for done in range(1, retry.tries + 1):
                answer = await self._try(http, url, signing.headers(secret, delivery.delivery_key, runtime.now(), body),
                                         body, retry.total - (self._monotonic() - started))
                if answer.status is not None and 200 <= answer.status < 300:
                    self._down.pop(url, None)
                    return AwaitingResult(note=f"Handed to the provider (HTTP {answer.status}); awaiting its result.",
                                          provider_id=_provider_id(answer.raw))
                failure = answer.failure
                if answer.not_public:
                    return DeliveryFailed(f"The webhook channel is misconfigured: {failure}", retryable=False)
                if answer.status is not None and not _temporary(answer.status):
                    return DeliveryFailed(f"The webhook refused the attempt: {failure}", retryable=False)
                if done == retry.tries:
                    break
                wait = retry.backoff(done, self._draw)
                if answer.retry_after is not None:
                    if answer.retry_after > retry.total:
                        failure += f" (it asked to wait {answer.retry_after:g} s)"
                        pause = max(pause, answer.retry_after)
                        break
                    wait = max(wait, answer.retry_after)
                if self._monotonic() - started + wait > retry.total:
                    break
                await self._sleep(wait)
        self._down[url] = self._monotonic() + pause
        return DeliveryFailed(f"The webhook failed after {done} tries: {failure}", retryable=True)

    async def _try(self, http: httpx.AsyncClient, url: str, signed: Mapping[str, str], body: bytes, left: float
                   ) -> _Answer:
        """One request, within what is ``left`` of the total time bound; the answer read up to `MAX_ANSWER`."""
        headers = {**signed, "user-agent": "outboundql-webhook"}
        try:
            async with asyncio.timeout(max(left, 0.001)):
                async with http.stream("POST", url, content=body, headers=headers) as response:
                    raw = b""
                    async for chunk in response.aiter_bytes():
                        raw += chunk
                        if len(raw) >= MAX_ANSWER:
                            break
        except (httpx.TimeoutException, TimeoutError):
            return _Answer(failure="the webhook did not answer in time")
        except httpx.TransportError as exc:
            if outbound.not_public(exc):
                return _Answer(failure=str(exc), not_public=True)
            return _Answer(failure=f"the webhook could not be reached ({type(exc).__name__}: {exc})")
        status = response.status_code
        return _Answer(status=status, raw=raw[:MAX_ANSWER], retry_after=_retry_after(response.headers),
                       failure=f"the webhook answered HTTP {status}: {_excerpt(raw)}")


@dataclass(frozen=True, slots=True)
class _Answer:
    """What one request came to: an HTTP status (None: no answer) and its body, or why there was none."""

    failure: str
    status: int | None = None
    raw: bytes = b""
    retry_after: float | None = None
    not_public: bool = False
    """The host is not at a public address (`outbound`): nothing to retry."""


def _temporary(status: int) -> bool:
    return status in (408, 429) or status >= 500


def _provider_id(raw: bytes) -> str | None:
    """The provider's ``id`` (or ``providerId``) from a JSON answer."""
    try:
        answer = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(answer, dict):
        return None
    for key in ("id", "providerId"):
        value = answer.get(key)
        if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value).strip():
            return str(value).strip()[:_PROVIDER_ID]
    return None


def _excerpt(raw: bytes) -> str:
    text = " ".join(raw.decode("utf-8", "replace").split())
    if not text:
        return "(no body)"
    return text[:_EXCERPT] + ("…" if len(text) > _EXCERPT else "")


def _retry_after(headers: httpx.Headers) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or an HTTP date); None if absent or unreadable."""
    value = headers.get("retry-after", "").strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


WEBHOOK = WebhookChannel()
"""The instance the built-in plugin registers."""
