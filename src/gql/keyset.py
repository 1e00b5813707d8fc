"""Keyset (cursor) pages of a tortoise queryset: a page costs the same on the first page and the
thousandth, and a list that changes between two requests neither skips nor repeats a row.

A cursor holds the row's sort key values and its id (the tiebreak the services end every ordering
with), so the next page is ``WHERE (key, id) > (cursor's)`` in the ordering's directions, served by an
index on (…, key, id). A nullable first key sorts its NULLs last in both directions on every
database: the rows with a value and those without are read as two segments (the second only when
the first does not fill the page), so neither needs ``NULLS LAST`` and both keep their index.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pypika_tortoise.enums import Order
from tortoise.expressions import Q
from tortoise.queryset import QuerySet

PREFIX = "keyset:"


#: What a cursor may hold for an annotation (a computed sort key): anything plain.
PLAIN_TYPES: tuple[type, ...] = (str, int, float, datetime)


@dataclass(frozen=True, slots=True)
class Key:
    name: str
    """A field or an annotation of the queryset."""
    descending: bool
    nullable: bool
    types: tuple[type, ...] = PLAIN_TYPES
    """What a cursor may hold for it (a column's type; anything plain for an annotation)."""


@dataclass(frozen=True, slots=True)
class Cursor:
    values: tuple[Any, ...]
    """One per key, the id last."""


def keys_of(queryset: Any) -> list[Key] | None:
    """The keys of a queryset's ordering (its own fields and annotations, ending with the id), or None when it
    cannot be paged by key (no ordering, or a key on a related row)."""
    if not isinstance(queryset, QuerySet):
        return None
    orderings = queryset._orderings  # tortoise keeps the parsed order_by() here
    if not orderings or any("__" in name for name, _ in orderings):
        return None
    fields = queryset.model._meta.fields_map
    keys = [Key(name, order == Order.desc, bool(name in fields and fields[name].null),
                _types(fields[name]) if name in fields else PLAIN_TYPES) for name, order in orderings]
    if keys[-1].name not in ("id", "pk"):
        return None
    if any(k.nullable for k in keys[1:]):
        return None
    return keys


def _types(field: Any) -> tuple[type, ...]:
    kind = getattr(field, "field_type", None)
    if kind is datetime:
        return (datetime,)
    if kind is date:
        return (date,)
    if kind is bool:
        return (bool,)
    if kind is int:
        return (int,)
    if kind in (float, Decimal):
        return (int, float, Decimal)
    return (str,)


def _encode_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"t": value.isoformat()}
    if isinstance(value, date):
        return {"d": value.isoformat()}
    if isinstance(value, Decimal):
        return {"n": str(value)}
    if hasattr(value, "value") and not isinstance(value, (int, float, str, bool)):  # an enum
        return value.value
    return value


def _decode_value(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"t"}:
            return datetime.fromisoformat(value["t"])
        if set(value) == {"d"}:
            return date.fromisoformat(value["d"])
        if set(value) == {"n"}:
            return Decimal(value["n"])
        raise ValueError("unknown cursor value")
    if isinstance(value, (list, tuple)):
        raise ValueError("unknown cursor value")
    return value


def encode(keys: list[Key], node: Any) -> str:
    values = [_encode_value(getattr(node, k.name)) for k in keys]
    body = json.dumps(values, separators=(",", ":"))
    return base64.b64encode(f"{PREFIX}{body}".encode()).decode()


def decode(keys: list[Key], cursor: str) -> Cursor:
    """ValueError when ``cursor`` is not a cursor of a list with these keys."""
    try:
        text = base64.b64decode(cursor, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise ValueError("not base64") from None
    if not text.startswith(PREFIX):
        raise ValueError("not a keyset cursor")
    try:
        values = json.loads(text[len(PREFIX):])
    except json.JSONDecodeError:
        raise ValueError("not JSON") from None
    if not isinstance(values, list) or len(values) != len(keys):
        raise ValueError("another list's cursor")
    decoded = tuple(_decode_value(v) for v in values)
    if not isinstance(decoded[-1], int) or isinstance(decoded[-1], bool) or not 0 <= decoded[-1] < 2**63:
        raise ValueError("no row id")
    for key, value in zip(keys, decoded, strict=True):
        if value is None:
            if not (key is keys[0] and key.nullable):
                raise ValueError("a key without a value")
        elif not isinstance(value, key.types) or (isinstance(value, bool) and bool not in key.types):
            raise ValueError("a value of another type")
        elif isinstance(value, float) and not math.isfinite(value):
            raise ValueError("not a number")
    return Cursor(decoded)


def _beyond(keys: list[Key], values: tuple[Any, ...], forward: bool) -> Q:
    """Rows strictly after (``forward``) or before the position ``values``, lexicographically over ``keys``
    (none of them NULL here), with the first key's bound repeated so an index range applies."""
    def op(key: Key, strict: bool) -> str:
        up = key.descending == forward  # moving towards smaller values?
        return ("lt" if up else "gt") if strict else ("lte" if up else "gte")

    condition = Q()
    for i, key in enumerate(keys):
        part = Q(**{f"{key.name}__{op(key, True)}": values[i]})
        for earlier, value in zip(keys[:i], values[:i], strict=False):
            part &= Q(**{earlier.name: value})
        condition = part if i == 0 else condition | part
    if len(keys) > 1:
        condition = Q(**{f"{keys[0].name}__{op(keys[0], False)}": values[0]}) & condition
    return condition


def _segment(keys: list[Key], nulls: bool, after: Cursor | None, before: Cursor | None) -> tuple[list[Key], Q] | None:
    """The keys that order one segment (NULL first keys, or not) and its condition; None: no row of it is
    between the cursors."""
    first = keys[0]
    own = keys[1:] if nulls else keys
    isnull: dict[str, Any] = {f"{first.name}__isnull": nulls}
    condition = Q(**isnull) if first.nullable else Q()
    for cursor, forward in ((after, True), (before, False)):
        if cursor is None:
            continue
        in_nulls = first.nullable and cursor.values[0] is None
        if nulls != in_nulls:
            # The cursor is in the other segment: all of this one is on one side of it.
            if forward != nulls:  # non-NULL rows come before a NULL cursor; NULL rows after a non-NULL one
                return None
            continue
        condition &= _beyond(own, cursor.values[1:] if nulls else cursor.values, forward)
    return own, condition


def _ordering(keys: list[Key], reverse: bool) -> list[str]:
    return [("-" if k.descending != reverse else "") + k.name for k in keys]


#: Most rows one query reads ahead for a page whose `Keep` drops rows.
READ_AHEAD = 5_000

Keep = Callable[[list[Any]], Awaitable[list[Any]]]
"""Given rows the query read (in its order), those that belong to the list: for a list the database selects only
roughly (`outboundql.services.saved_filters.MatchingAccounts`)."""


async def page(queryset: QuerySet[Any], keys: list[Key], *, first: int | None, last: int | None,
               after: Cursor | None, before: Cursor | None, keep: Keep | None = None) -> tuple[list[Any], bool, bool]:
    """(rows in list order, has a previous page, has a next page): at most ``first`` rows after ``after``
    (or the ``last`` rows before ``before``), in one query, or two when a page spans the NULL segment. With
    ``keep``, a query whose rows it thins reads on from its last row (twice as many each time, at most
    `READ_AHEAD`) until the page is full or the list ends."""
    forward = last is None
    size = first if forward else last
    assert size is not None
    segments = [False, True] if keys[0].nullable else [False]
    if not forward:
        segments.reverse()
    rows: list[Any] = []
    for nulls in segments:
        start, end = after, before
        want = size + 1 - len(rows)
        while len(rows) <= size:
            found = _segment(keys, nulls, start, end)
            if found is None:
                break
            own, condition = found
            query = queryset.filter(condition).order_by(*_ordering(own, not forward))
            read = list(await query.limit(want))
            rows += read if keep is None else await keep(read)
            if keep is None or len(read) < want:
                break
            position = Cursor(tuple(getattr(read[-1], k.name) for k in keys))
            start, end = (position, end) if forward else (start, position)
            want = min(max(2 * want, size + 1 - len(rows)), READ_AHEAD)
    more = len(rows) > size
    rows = rows[:size]
    if forward:
        return rows, after is not None, more
    rows.reverse()
    return rows, more, before is not None
