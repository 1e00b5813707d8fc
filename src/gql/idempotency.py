"""The idempotency key of the mutations that create, and the ``replayed`` flag of their payloads."""

from __future__ import annotations

from typing import Any

import strawberry

from outboundql.services.idempotency import MAX_KEY_LENGTH


def idempotency_key(answer: str, scope: str = "project") -> Any:
    """``idempotencyKey: String`` of an input whose retry answers ``answer`` again (keys are per ``scope``
    and mutation)."""
    return strawberry.field(
        default=None,
        description=f"Up to {MAX_KEY_LENGTH} characters, unique per {scope} and mutation. A retry with the same "
        f"key and input answers {answer} again (`replayed: true`) and writes nothing; the same key with other "
        "input is CONFLICT.")


def replayed(mutation: str | None = None) -> Any:
    """``replayed: Boolean!`` of a payload; ``mutation``: the one that creates, when the payload is shared."""
    text = "true when this is the answer of an earlier request with the same idempotency key (nothing was written now)"
    if mutation is None:
        return strawberry.field(default=False, description=text[0].upper() + text[1:] + ".")
    return strawberry.field(default=False,
                            description=f"{mutation}: {text}. Always false for the other mutations.")
