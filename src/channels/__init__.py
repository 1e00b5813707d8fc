"""Channels deliver outreach attempts: the interface every channel plugin implements, and the built-in ``log``
channel.

The scheduler claims a due attempt, checks what must hold at execution (the campaign is live, the window is open,
nobody is do-not-contact or suppressed), finds the project's channel configured for the step's message channel
(else ``log``), and hands it a `Delivery` (plain values, no ORM objects) with that configuration (`Configured`:
settings, and secrets decrypted for this call only). The channel answers one of:

- `Delivered`: it went out (an e-mail accepted by the SMTP server): the attempt is settled at once with its
  outcome (SENT by default) and the plan moves on, as if a person had recorded it;
- `AwaitingResult`: it was handed over (to a person, or to a telephony provider that reports the call's
  outcome later through ``recordAttemptResult`` or the signed result link);
- `Deferred`: not now (a sending cap is reached): the attempt goes back to the schedule, due at ``until`` (and
  then at the window's next opening), never dropped;
- `DeliveryFailed`: it could not be delivered; ``retryable`` for a temporary failure (the retry policy decides),
  else the address is unusable (``bounced``: the row is marked BOUNCED) and the account's next contact is tried.

``delivery_key`` is the same for every try of one attempt, so a channel that talks to a provider passes it on
and a repeated delivery is recognised. ``quota`` takes sending slots atomically across every worker.

A channel may also deliver a whole batch through one `DeliverySession` (`BatchChannel.session`): the engine opens
one per configuration at the batch's first delivery through it, delivers the batch's attempts through it one by one
(each answering its own result, as ``deliver`` would), and closes it when the batch is delivered. The ``email``
channel keeps its SMTP connection open across the batch this way. A channel without ``session`` is called at
``deliver`` for each attempt.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol

from outboundql.enums import Channel

SettingType = Literal["string", "integer", "boolean", "url", "email", "choice"]


@dataclass(frozen=True, kw_only=True, slots=True)
class Setting:
    """One setting a channel needs. A ``secret`` one is write-only: stored encrypted, never returned by the API."""

    key: str
    """camelCase, as the API takes it (``fromAddress``)."""
    label: str
    type: SettingType = "string"
    required: bool = False
    default: Any = None
    choices: tuple[str, ...] = ()
    """The values a ``choice`` setting takes."""
    secret: bool = False
    description: str = ""
    minimum: int | None = None
    maximum: int | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class Configured:
    """A project's configuration of a channel, as its ``deliver`` sees it (settings validated, defaults
    filled in; secrets decrypted)."""

    project_id: int
    kind: str
    """The message channel it is configured for (``email``, ``phone_call``…)."""
    settings: Mapping[str, Any] = field(default_factory=dict)
    secrets: Mapping[str, str] = field(default_factory=dict)


class Quota(Protocol):
    async def take(self, limits: Mapping[str, int]) -> datetime | None:
        """Take one slot of each counter (``"sender:ana@x.example"`` → its daily cap), all or none, atomically
        across workers; None when taken, else when the first full counter frees up."""
        ...

    async def give_back(self, limits: Mapping[str, int]) -> None:
        """Return the slots a `take` of ``limits`` took, for what surely did not go out (the server refused it,
        or was never reached): a day of failed tries does not use up the day's cap."""
        ...


@dataclass(frozen=True, kw_only=True, slots=True)
class Delivery:
    """One attempt to deliver."""

    attempt_id: int
    delivery_key: str
    project_id: int
    campaign_id: int
    channel: str
    """The message channel of the step (``email``, ``phone_call``…)."""
    address: str | None
    """Where it goes: the e-mail address, phone number or profile URL chosen when it was planned."""
    contact_name: str | None
    account_name: str
    subject: str | None
    body: str
    step: int
    attempt_number: int
    language: str = "en"
    thread: tuple[str, ...] = ()
    """Provider message ids (e-mail ``Message-ID``s) of what went to this contact earlier in this campaign, oldest
    first: a follow-up answers the last one, so a sequence is one thread."""
    unsubscribe_url: str | None = None
    """One-click unsubscribe link (GET shows a page, POST suppresses the address and stops its plans)."""
    result_url: str | None = None
    """Signed link a provider POSTs the attempt's result to (the ``webhook`` channel's callback)."""
    quota: Quota | None = None


@dataclass(frozen=True, slots=True)
class Delivered:
    """It went out; the attempt is settled now with ``outcome`` (an `AttemptOutcome` value)."""

    provider_id: str | None = None
    """What the provider calls it (the e-mail's ``Message-ID``): kept on the attempt and its message."""
    outcome: str = "sent"
    note: str = ""


@dataclass(frozen=True, slots=True)
class AwaitingResult:
    """Handed over; the outcome is reported later."""

    note: str = ""
    provider_id: str | None = None


@dataclass(frozen=True, slots=True)
class Deferred:
    """Not now (a cap is reached): due again at ``until``, at the window's next opening."""

    until: datetime
    reason: str


@dataclass(frozen=True, slots=True)
class DeliveryFailed:
    """Could not be delivered. ``retryable``: a temporary failure (the retry policy decides, as for a FAILED
    outcome); otherwise the address is unusable and the account's next contact is tried (``bounced``: the
    address itself was refused, the row is marked BOUNCED)."""

    error: str
    retryable: bool = True
    bounced: bool = False


DeliveryResult = Delivered | AwaitingResult | Deferred | DeliveryFailed


class OutreachChannel(Protocol):
    key: str
    label: str
    serves: frozenset[str]
    """The message channels it delivers (values of `outboundql.enums.Channel`)."""
    settings: tuple[Setting, ...]

    async def deliver(self, delivery: Delivery, config: Configured) -> DeliveryResult: ...


class DeliverySession(Protocol):
    """Delivers the attempts of one batch through one configuration, keeping what they share (a connection, a
    login) between them."""

    async def deliver(self, delivery: Delivery) -> DeliveryResult:
        """What ``deliver(delivery, config)`` of the channel answers, with this session's configuration."""
        ...


class BatchChannel(OutreachChannel, Protocol):
    """A channel that delivers a batch through one session (optional: ``session`` is looked for, not required)."""

    def session(self, config: Configured) -> AbstractAsyncContextManager[DeliverySession]:
        """An async context manager for one batch's deliveries through ``config``: entered before its first
        delivery, left (closing what it keeps) after its last, also when the batch is cut short."""
        ...


class LogChannel:
    """The operator reaches out elsewhere (a phone, their own mailbox) and logs what happened: executing an
    attempt puts it in front of a person, who records the result."""

    key = "log"
    label = "Log (a person reaches out and records the result)"
    serves = frozenset(c.value for c in Channel)
    settings: tuple[Setting, ...] = ()

    async def deliver(self, delivery: Delivery, config: Configured) -> DeliveryResult:
        return AwaitingResult(note="Due for a person: reach out, then record the result.")


LOG = LogChannel()
