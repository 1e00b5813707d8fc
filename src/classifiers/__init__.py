"""Reply classifiers: the interface every classifier plugin implements.

A classifier reads replies (`Reply`: plain values, no ORM objects) and answers one `Classification` per reply, in
the same order: the class of the reply (`ReplyClass`), a confidence between 0 and 1, and, when the reply states
them, the date an out-of-office person is back (``returns_on``) or the person a referral names (``referral``).

Classifiers are registered through the ``outboundql_register_classifiers`` hook (see
`outboundql.classifiers.registry`); the built-in ``rules`` classifier (`outboundql.classifiers.rules`) uses the
same hook. A classifier never needs a database or the network to be called; one that does (an LLM) brings its own
client. `outboundql.classifiers.registry.classify_with` calls a classifier and turns a failure (an exception, or
a wrong number of answers) into ``OTHER`` with confidence 0, so a broken plugin never breaks the caller.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol


class ReplyClass(enum.StrEnum):
    """What a reply says, as far as outreach is concerned."""

    INTERESTED = "interested"
    """Wants to talk, asks for a meeting, more information or a price."""
    NOT_INTERESTED = "not_interested"
    """Declines (politely or not), has a provider already, not now."""
    OUT_OF_OFFICE = "out_of_office"
    """An automatic absence reply; ``returns_on`` holds the return date when stated."""
    REFERRAL = "referral"
    """Points to someone else; ``referral`` holds the person when found."""
    UNSUBSCRIBE = "unsubscribe"
    """Asks to be removed from the list or never to be contacted again."""
    BOUNCE = "bounce"
    """A delivery failure notice (the address does not exist, the mailbox is full)."""
    OTHER = "other"
    """Anything else, and what a classifier answers when it cannot tell."""


@dataclass(frozen=True, slots=True)
class Reply:
    """What a classifier reads: one reply to an outreach message."""

    text: str
    """The body as received (quoted history and signature included)."""
    subject: str | None = None
    language: str | None = None
    """ISO 639-1 when known (``"en"``, ``"es"``, ...), else None (the classifier may detect it)."""
    channel: str | None = None
    """``"email"``, ``"phone_call"``, ``"sms"``, ... (values of `outboundql.enums.Channel`)."""
    received_at: datetime | None = None
    """Aware; lets an out-of-office date without a year be placed after it."""


@dataclass(frozen=True, slots=True)
class Referral:
    """The person a referral names, each part as written in the reply (None when absent)."""

    name: str | None = None
    email: str | None = None
    phone: str | None = None


@dataclass(frozen=True, slots=True)
class Classification:
    """What a classifier answers for one reply."""

    label: ReplyClass
    confidence: float
    """Between 0 and 1."""
    returns_on: date | None = None
    """OUT_OF_OFFICE: the date the person says they are back, when stated."""
    referral: Referral | None = None
    """REFERRAL: the person named, when found."""


class ReplyClassifier(Protocol):
    """A reply classifier plugin.

    Example:
        ```python
        class Keywords:
            key = "keywords"
            label = "Keywords"

            async def classify(self, replies: Sequence[Reply]) -> Sequence[Classification]:
                return [Classification(ReplyClass.OTHER, 0.0) for _ in replies]
        ```
    """

    key: str
    """lower_snake_case, unique among the installed classifiers, stable."""
    label: str
    """The human name a frontend shows."""

    async def classify(self, replies: Sequence[Reply]) -> Sequence[Classification]:
        """One `Classification` per reply, in the same order."""
        ...


__all__ = ["Classification", "Referral", "Reply", "ReplyClass", "ReplyClassifier"]
