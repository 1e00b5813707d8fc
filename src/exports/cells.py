"""One exported value as the text of a CSV cell, safe to open in a spreadsheet.

A spreadsheet runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` as a formula (and a leading tab or
carriage return can hide such a start), so a text cell starting with one of them gets a single quote in front,
as OWASP recommends against CSV injection: ``=HYPERLINK(…)`` is written ``'=HYPERLINK(…)``. Only text is
neutralised: a value that is a number (an int, float or Decimal, such as a score or an amount, negative
or not) is written as the number it is. A phone number in E.164 is text, so ``+34600123456`` is written
``'+34600123456`` (which also keeps a spreadsheet from turning it into 3.46E+10).

Other values are written as the API shows them: enums by their UPPER_SNAKE name, instants in ISO 8601 UTC,
dates as ``YYYY-MM-DD``, ids as Relay global ids (`GlobalId`), booleans as ``true``/``false``, nothing as an
empty cell, a list of words joined by ``; `` and any other JSON (a nested custom field) as compact JSON text.
"""

from __future__ import annotations

import base64
import enum
import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, NamedTuple

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""Leading characters that make a spreadsheet read a cell as a formula (or hide such a start)."""

LIST_SEPARATOR = "; "


class GlobalId(NamedTuple):
    """A row's id as the API shows it: the Relay global id, base64 of ``<Type>:<id>``."""

    type_name: str
    pk: int

    def __str__(self) -> str:
        return base64.b64encode(f"{self.type_name}:{self.pk}".encode()).decode()


def neutralise(text: str) -> str:
    """``text`` with a single quote in front when it starts like a formula; any other text unchanged."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def cell(value: Any) -> str:
    """The CSV cell of ``value`` (see the module's docstring): text neutralised, numbers left as numbers."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, enum.Enum):
        return value.name
    if isinstance(value, GlobalId):
        return neutralise(str(value))
    if isinstance(value, int | float | Decimal):
        return _number(value)
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        return neutralise(LIST_SEPARATOR.join(value))
    if isinstance(value, str):
        return neutralise(value)
    return neutralise(json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True, default=str))


def _number(value: int | float | Decimal) -> str:
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        return ""  # not a number a spreadsheet (or JSON) can hold
    return str(value)
