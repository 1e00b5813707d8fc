"""Shared input cleaning: each cleaner normalises one value or reports an issue by field name.

Every text a client gives passes `storable` (the cleaners below call it): a NUL character or a
lone surrogate (half of a UTF-16 pair, which JSON's ``\\ud800`` escapes can carry) cannot be stored
as UTF-8 text. PostgreSQL refuses both and SQLite's driver cannot encode the second, so they
are the client's mistake on that field, never a database error.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar

from outboundql.errors import Collector, InvalidInput

T = TypeVar("T")

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def storable(value: str, label: str = "Value") -> str:
    """``value`` unchanged, or ValueError when it holds a character no database can store as text."""
    found = _UNSTORABLE.search(value)
    if found is not None:
        what = "a NUL character" if found.group() == "\x00" else "a lone UTF-16 surrogate"
        raise ValueError(f"{label} contains {what} at position {found.start()}; text cannot hold it.")
    return value


def cleaned(name: str, cleaner: Callable[[Any], T], value: Any) -> T:
    """``cleaner(value)`` for one field: its ValueError becomes INVALID on the snake-case field ``name``."""
    try:
        return cleaner(value)
    except ValueError as exc:
        raise InvalidInput(str(exc), field=name) from None


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def clean(
    data: dict[str, Any],
    cleaners: dict[str, Callable[[Any], Any]],
    check: Collector,
    *,
    prefix: str = "",
) -> dict[str, Any]:
    """Apply ``cleaners[name]`` to each present key; a ValueError becomes an issue on ``prefix`` + the
    key (the snake-case name of the command's field)."""
    out: dict[str, Any] = {}
    for name, value in data.items():
        cleaner = cleaners.get(name)
        if cleaner is None:
            out[name] = value
            continue
        try:
            out[name] = cleaner(value)
        except ValueError as exc:
            check.add(prefix + name, str(exc))
    return out


def text(max_length: int, *, required: bool = False, label: str = "Value") -> Callable[[Any], str | None]:
    def cleaner(value: Any) -> str | None:
        if value is None:
            if required:
                raise ValueError(f"{label} is required.")
            return None
        stripped = storable(str(value), label).strip()
        if required and not stripped:
            raise ValueError(f"{label} is required.")
        if len(stripped) > max_length:
            raise ValueError(f"{label} must be at most {max_length} characters (got {len(stripped)}).")
        return stripped if stripped or required else None

    return cleaner


def long_text(max_length: int = 20_000, *, label: str = "Text") -> Callable[[Any], str]:
    def cleaner(value: Any) -> str:
        stripped = storable(value or "", label).strip()
        if len(stripped) > max_length:
            raise ValueError(f"{label} must be at most {max_length} characters.")
        return stripped

    return cleaner


def string_list(max_items: int = 100, max_length: int = 200, *, label: str = "List") -> Callable[[Any], list[str]]:
    def cleaner(value: Any) -> list[str]:
        items = [storable(str(v), f"An item of {label}").strip() for v in (value or [])]
        items = [v for v in items if v]
        if len(items) > max_items:
            raise ValueError(f"{label} may hold at most {max_items} items.")
        if any(len(v) > max_length for v in items):
            raise ValueError(f"Each item of {label} must be at most {max_length} characters.")
        return list(dict.fromkeys(items))  # de-duplicated, order kept

    return cleaner


def int_range(lo: int, hi: int, *, label: str) -> Callable[[Any], int | None]:
    def cleaner(value: Any) -> int | None:
        if value is None:
            return None
        if not lo <= int(value) <= hi:
            raise ValueError(f"{label} must be between {lo} and {hi}.")
        return int(value)

    return cleaner


def json_object(*, max_depth: int = 10, label: str = "Value") -> Callable[[Any], dict[str, Any]]:
    """A JSON object with non-empty string keys (null is the empty object), at most ``max_depth``
    levels of objects and arrays deep, every key and string storable."""

    def cleaner(value: Any) -> dict[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, dict) or not all(isinstance(k, str) and k for k in value):
            raise ValueError(f"{label} must be a JSON object with non-empty string keys.")
        return storable_json(value, label, max_depth=max_depth)

    return cleaner


def storable_json(value: T, label: str = "Value", *, max_depth: int | None = None) -> T:
    """``value`` (JSON) unchanged, or ValueError when a key or string in it is not `storable` or it nests
    objects and arrays more than ``max_depth`` levels deep."""
    pending: list[tuple[Any, int]] = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, str):
            storable(item, label)
        elif isinstance(item, (dict, list)):
            if max_depth is not None and depth > max_depth:
                raise ValueError(f"{label} may nest objects and arrays at most {max_depth} levels deep.")
            if isinstance(item, dict):
                for key in item:
                    storable(str(key), f"A key of {label}")
            pending.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return value
