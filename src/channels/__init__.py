"""Channels deliver outreach attempts: the interface every channel implements, and the built-in ``log`` channel.

The scheduler claims a due attempt, checks what must hold at execution (the campaign is live, the window is open,
nobody is do-not-contact), and hands the channel a `Delivery`: plain values, no ORM objects. The channel answers
`AwaitingResult` (it was handed over: a person or an integration reports the outcome with
``recordAttemptResult``) or `DeliveryFailed`. ``delivery_key`` is the same for every try of one attempt, so a
channel that talks to a provider passes it on and a repeated delivery is recognised.

Built in: ``log`` — executing an attempt makes it due for a person ("call Dana now"), who records the result.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from outboundql.enums import Channel


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


@dataclass(frozen=True, slots=True)
class AwaitingResult:
    """Handed over; the outcome is reported later."""

    note: str = ""


@dataclass(frozen=True, slots=True)
class DeliveryFailed:
    """Could not be delivered. ``retryable``: a temporary failure (the retry policy decides, as for a FAILED
    outcome); otherwise the address is unusable and the account's next contact is tried."""

    error: str
    retryable: bool = True


DeliveryResult = AwaitingResult | DeliveryFailed


class OutreachChannel(Protocol):
    key: str
    label: str
    serves: frozenset[str]
    """The message channels it delivers (values of `outboundql.enums.Channel`)."""

    async def deliver(self, delivery: Delivery) -> DeliveryResult: ...


class LogChannel:
    """The operator reaches out elsewhere (a phone, their own mailbox) and logs what happened: executing an
    attempt puts it in front of a person, who records the result."""

    key = "log"
    label = "Log (a person reaches out and records the result)"
    serves = frozenset(c.value for c in Channel)

    async def deliver(self, delivery: Delivery) -> DeliveryResult:
        return AwaitingResult(note="Due for a person: reach out, then record the result.")


LOG = LogChannel()


def channel_for(channel: str) -> OutreachChannel:
    """The channel that delivers a step's message channel. Only ``log`` is built in so far."""
    return LOG
