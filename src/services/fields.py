"""Shared input cleaning: each cleaner normalises one value or reports an issue by field name."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from outboundql.errors import Collector


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
        stripped = str(value).strip()
        if required and not stripped:
            raise ValueError(f"{label} is required.")
        if len(stripped) > max_length:
            raise ValueError(f"{label} must be at most {max_length} characters (got {len(stripped)}).")
        return stripped if stripped or required else None

    return cleaner


def long_text(max_length: int = 20_000, *, label: str = "Text") -> Callable[[Any], str]:
    def cleaner(value: Any) -> str:
        stripped = (value or "").strip()
        if len(stripped) > max_length:
            raise ValueError(f"{label} must be at most {max_length} characters.")
        return stripped

    return cleaner


def string_list(max_items: int = 100, max_length: int = 200, *, label: str = "List") -> Callable[[Any], list[str]]:
    def cleaner(value: Any) -> list[str]:
        items = [str(v).strip() for v in (value or []) if str(v).strip()]
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
