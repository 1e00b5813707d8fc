"""Idempotency keys of the mutations that create: a retried request answers the first result, never a
second row.

A create given an ``idempotency_key`` records an `IdempotencyKey` (scope, operation, key) in the same
transaction as the rows it makes, with a fingerprint of its command and what it answered (the new rows'
ids). A later request with that key, in the same scope and operation:

* with the same command: answers the first result again (``replayed``), and writes and publishes nothing;
* with another command: is a CONFLICT on ``idempotency_key``, and writes nothing;
* after what the first created is gone (deleted, merged away): is a CONFLICT too.

Keys belong to a project (anyone in it may retry a request), or to the user for createProject. Requests
that race with one key make one result: each claims the key first in its transaction; the unique
constraint decides (PostgreSQL makes the others wait for the winner's commit), and the losers roll back
and answer the winner's result.

Each create service calls `create_once` with the command, what to write (inside the transaction) and how
to answer from a recorded answer; it publishes its live events only when the result is not a replay.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import enum
import hashlib
import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from outboundql import models
from outboundql.errors import Conflict, InvalidInput
from outboundql.services import fields

MAX_KEY_LENGTH = 200
KEY_FIELD = "idempotency_key"

T = TypeVar("T")
Answer = dict[str, Any]
"""What a create answered, as JSON: the ids of its rows and what the answer said about them."""

_clean_key = fields.text(MAX_KEY_LENGTH, label="The idempotency key")


@dataclass(frozen=True, slots=True)
class Once:
    """One create request and its key (None: no key, nothing is recorded)."""

    operation: str
    scope: str
    project_id: int | None
    key: str | None
    fingerprint: str

    @classmethod
    def of(cls, command: Any, operation: str, *, project_id: int | None = None,
           user: models.User | None = None) -> Once:
        """The request ``command`` (a dataclass with an ``idempotency_key`` field) makes, within project
        ``project_id``, or of ``user`` when it has no project yet. A key too long is INVALID."""
        if project_id is not None:
            scope = f"project:{project_id}"
        elif user is not None:
            scope = f"user:{user.id}"
        else:
            raise TypeError("An idempotency key belongs to a project or, for a new project, to a user.")
        try:
            key = _clean_key(getattr(command, KEY_FIELD))
        except ValueError as exc:
            raise InvalidInput(str(exc), field=KEY_FIELD) from None
        return cls(operation, scope, project_id, key, fingerprint(command))

    async def earlier(self) -> Answer | None:
        """What an earlier request with this key answered, or None (no key, or not used yet). A key used
        for another request is a CONFLICT."""
        if self.key is None:
            return None
        row = await models.IdempotencyKey.filter(scope=self.scope, operation=self.operation, key=self.key).first()
        if row is None:
            return None
        if row.fingerprint != self.fingerprint:
            raise Conflict("This idempotency key was already used for a different request; use a new key for a "
                           "new request (nothing was written).", field=KEY_FIELD)
        return dict(row.answer)


async def create_once(once: Once, write: Callable[[], Awaitable[tuple[T, Answer]]],
                      replay: Callable[[Answer], Awaitable[T | None]]) -> T:
    """Answer the earlier result of ``once``'s key (``replay`` builds it from the recorded answer), or run
    ``write`` in a transaction that also records the key and ``write``'s answer. ``replay`` returns None
    when what the first request created is gone: that is a CONFLICT (a new key creates it again)."""
    earlier = await once.earlier()
    if earlier is not None:
        return await _replayed(earlier, replay)
    try:
        async with in_transaction():
            claim = await _claim(once)
            result, answer = await write()
            if claim is not None:
                claim.answer = answer
                await claim.save(update_fields=["answer"])
    except IntegrityError:
        # A concurrent request with the same key committed first (or another uniqueness race: re-raised).
        earlier = await once.earlier()
        if earlier is None:
            raise
        return await _replayed(earlier, replay)
    return result


async def _claim(once: Once) -> models.IdempotencyKey | None:
    """First in the transaction: a concurrent request with the key waits here until this one ends."""
    if once.key is None:
        return None
    return await models.IdempotencyKey.create(scope=once.scope, project_id=once.project_id,
                                              operation=once.operation, key=once.key,
                                              fingerprint=once.fingerprint)


async def _replayed(answer: Answer, replay: Callable[[Answer], Awaitable[T | None]]) -> T:
    result = await replay(answer)
    if result is None:
        raise Conflict("What the first request with this idempotency key created is gone (deleted or merged "
                       "since); use a new key to create it again.", field=KEY_FIELD)
    return result


def fingerprint(command: Any) -> str:
    """SHA-256 (hex) of ``command``'s fields but its idempotency key, as canonical JSON: equal commands,
    equal fingerprints."""
    text = json.dumps(_canonical(command), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _canonical(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _canonical(getattr(value, f.name)) for f in dataclasses.fields(value) if f.name != KEY_FIELD}
    if isinstance(value, enum.Enum):
        return [type(value).__name__, _canonical(value.value)]
    if isinstance(value, (dt.date, dt.datetime, dt.time)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return ["Decimal", str(value)]
    if isinstance(value, Mapping):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return [type(value).__name__, repr(value)]
