"""Filter expressions (`outboundql.services.filter_expressions`) compiled to SQL for SQLite and PostgreSQL.

`compile_filter` turns a valid, canonical expression into two SQL boolean expressions over the ``account``
table, every value a bound parameter:

* ``where``: whether the row matches, exact for every row where ``uncertain`` is false;
* ``uncertain``: the rows SQL cannot judge exactly the way Python does; the caller evaluates those in
  Python (`filter_expressions.compile_expression`), in batches. ``None`` when SQL judges every row.

Both are two-valued (never NULL), so ``NOT`` of a condition is the Python ``not``. What SQL leaves to
Python, and why:

* text holding a non-ASCII character whose case fold is not itself (``É``, ``ß``, ``ﬁ``, ``Σ``…): SQL's
  ``lower()`` folds ASCII only (PostgreSQL under ``COLLATE "C"``, SQLite always), which is exactly
  ``str.casefold()`` on every other string;
* custom-field numbers of magnitude 2**53 or more (where float and integer comparisons part ways);
* ``contains`` on a custom field holding a non-integer number, an object, or a list holding one of those
  or a list (Python compares with their ``str()``);
* on SQLite, ``created_at`` stored with an offset other than UTC (timestamps are compared as text).

Numbers compare as numbers (PostgreSQL ``numeric``; SQLite integers and reals compare exactly), strings
by code point of their case folds (``COLLATE "C"``: byte order of UTF-8), booleans only with booleans.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Any

from outboundql.services.filter_expressions import CUSTOM_PREFIX, Kind, field_kind

TABLE = "account"
_BIG = 2 ** 53  # numbers from here on are left to Python (float and integer comparisons differ)
_INT64 = 2 ** 63
_INT32 = 2 ** 31
_PLACEHOLDER = re.compile(r"([$?])(\d+)")  # no literal of the compiled SQL holds a $ or ? before a digit
_SQL_OPS = {"eq": "=", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}


class Binder:
    """Bound parameters of one statement: ``binder(value)`` answers its placeholder (``$n`` on PostgreSQL,
    ``?n`` on SQLite: numbered, so a fragment may be placed anywhere in the statement)."""

    def __init__(self, postgres: bool) -> None:
        self.postgres = postgres
        self.params: list[Any] = []
        self._pattern: tuple[int, str] | None = None

    def __call__(self, value: Any) -> str:
        self.params.append(value)
        return f"${len(self.params)}" if self.postgres else f"?{len(self.params)}"

    def unfolded(self) -> str:
        """The placeholder of the pattern that finds characters `fold` does not fold as Python does."""
        if self._pattern is None:
            self._pattern = len(self.params), self(_unfolded_regex() if self.postgres else _unfolded_glob())
        return self._pattern[1]

    def finish(self, sql: str) -> tuple[str, list[Any]]:
        """``sql`` and its parameters, renumbered to the placeholders it uses (a fragment compiled but left
        out, such as a filter's ``where`` when only its ``uncertain`` is queried, binds nothing)."""
        numbers: dict[int, int] = {}

        def renumber(found: re.Match[str]) -> str:
            n = numbers.setdefault(int(found.group(2)), len(numbers) + 1)
            return f"{found.group(1)}{n}"

        text = _PLACEHOLDER.sub(renumber, sql)
        return text, [self.params[n - 1] for n in sorted(numbers, key=numbers.__getitem__)]

    def placed(self, sql: str, place: Callable[[Any], str]) -> str:
        """``sql`` with each placeholder replaced by ``place(value)``: the fragment put in another statement
        (an ORM query) whose parameters ``place`` makes, in the order they appear."""
        return _PLACEHOLDER.sub(lambda found: place(self.params[int(found.group(2)) - 1]), sql)

    def truncate(self, size: int) -> None:
        """Forget the parameters bound after the first ``size`` (a fragment left out of the statement)."""
        del self.params[size:]
        if self._pattern is not None and self._pattern[0] >= size:
            self._pattern = None


@dataclass(frozen=True, slots=True)
class SqlFilter:
    where: str
    uncertain: str | None


def compile_filter(expression: Any, binder: Binder) -> SqlFilter:
    """SQL for a valid, canonical expression, its values bound in ``binder`` (see the module docstring)."""
    doubts: list[str] = []
    where = _Compiler(binder, doubts).node(expression)
    uncertain = " OR ".join(dict.fromkeys(doubts)) if doubts else None
    return SqlFilter(where=where, uncertain=None if uncertain is None else f"COALESCE(({uncertain}), FALSE)")


# Characters with a case (those str.casefold() changes) are all below U+20000.
_CASED_UP_TO = 0x1FFFF

# SQLite's GLOB tests a character against a class entry by entry, so its test lists a few ranges known to fold
# like Python's instead (most frequent first; ASCII is folded by lower()), and a string holding any other
# character is left to Python: Latin-1, common Latin-extended lower-case letters, punctuation, the euro sign,
# lower-case Cyrillic and Greek, CJK, Hangul, Hebrew and Arabic, emoji.
_SQLITE_BLOCKS = ((0x01, 0x7F), (0xA0, 0xFF), *((c, c) for c in (0x153, 0x142, 0x15B, 0x17C, 0x17A, 0x107, 0x144,
                  0x119, 0x105, 0x10D, 0x161, 0x17E, 0x159, 0x11B, 0x131, 0x11F, 0x15F, 0x151, 0x171)),
                  (0x2010, 0x2027), (0x20AC, 0x20AC), (0x430, 0x45F), (0x3AC, 0x3CE), (0x3000, 0x9FFF),
                  (0xAC00, 0xD7A3), (0x0590, 0x06FF), (0x1F300, 0x1FAFF))


def _folds_alike(code: int) -> bool:
    """``lower()`` in SQL (ASCII only) folds the character as ``str.casefold()`` does."""
    char = chr(code)
    return code < 128 or 0xD800 <= code <= 0xDFFF or char.casefold() == char


def _ranges(codes: Any) -> list[tuple[int, int]]:
    out: list[list[int]] = []
    for code in codes:
        if out and out[-1][1] == code - 1:
            out[-1][1] = code
        else:
            out.append([code, code])
    return [(a, b) for a, b in out]


def _class(ranges: list[tuple[int, int]]) -> str:
    return "".join(chr(a) if a == b else f"{chr(a)}-{chr(b)}" for a, b in ranges)


@cache
def _unfolded_regex() -> str:
    """PostgreSQL: a regular expression finding a character ``lower()`` does not fold as Python does."""
    return f"[{_class(_ranges(c for c in range(128, _CASED_UP_TO + 1) if not _folds_alike(c)))}]"


@cache
def _unfolded_glob() -> str:
    """SQLite: a GLOB pattern finding a character not known to fold alike."""
    safe = [r for a, b in _SQLITE_BLOCKS for r in _ranges(c for c in range(a, b + 1) if _folds_alike(c))]
    return f"*[^{_class(safe)}]*"


def _or(parts: list[str]) -> str:
    return "(" + " OR ".join(parts) + ")" if parts else "FALSE"


class _Json:
    """A JSON value in SQL: a custom field (``custom_fields`` at a key) or an element of a JSON array."""

    def __init__(self, postgres: bool, type_sql: str, text_sql: str, jsonb_sql: str | None = None) -> None:
        self.postgres = postgres
        self.type = type_sql  # json_type / jsonb_typeof
        self.text = text_sql  # the string's content, a number's or boolean's JSON text
        self.jsonb = jsonb_sql  # PostgreSQL: the jsonb value

    def is_text(self) -> str:
        return f"{self.type} = '{'string' if self.postgres else 'text'}'"

    def is_number(self) -> str:
        return f"{self.type} = 'number'" if self.postgres else f"{self.type} IN ('integer', 'real')"

    def is_bool(self) -> str:
        return f"{self.type} = 'boolean'" if self.postgres else f"{self.type} IN ('true', 'false')"

    def bool_text(self) -> str:
        return self.text if self.postgres else self.type

    def is_integer_text(self) -> str:
        """A number whose JSON text is Python's ``str()`` of it (an integer within int64)."""
        if self.postgres:
            return f"({self.is_number()} AND {self.text} ~ '^-?[0-9]+$')"
        return f"({self.type} = 'integer' AND typeof({self.text}) = 'integer')"

    def number(self) -> str:
        if self.postgres:
            return f"(CASE WHEN {self.is_number()} THEN CAST({self.text} AS numeric) END)"
        return self.text

    def big(self) -> str:
        return f"({self.is_number()} AND abs({self.number()}) >= {_BIG})"


class _Compiler:
    def __init__(self, binder: Binder, doubts: list[str]) -> None:
        self.b = binder
        self.pg = binder.postgres
        self.doubts = doubts

    # --- dialect pieces -------------------------------------------------------------------------

    def fold(self, sql: str) -> str:
        return f'lower(({sql}) COLLATE "C")' if self.pg else f"lower({sql})"

    def find(self, haystack: str, needle: str) -> str:
        return f"{'strpos' if self.pg else 'instr'}({haystack}, {needle}) > 0"

    def unfolded(self, sql: str) -> str:
        """``sql`` (text) holds a character that `fold` does not fold as ``str.casefold()`` does."""
        if self.pg:
            return f"({sql}) ~ {self.b.unfolded()}"
        return f"(length(CAST({sql} AS BLOB)) <> length({sql}) AND ({sql}) GLOB {self.b.unfolded()})"  # non-ASCII

    def doubt(self, sql: str) -> None:
        self.doubts.append(sql)

    def number(self, value: int | float) -> str:
        """A bound number comparing as Python compares it with numbers below 2**53 in magnitude."""
        if self.pg:
            if isinstance(value, int) and -_INT32 <= value < _INT32:
                return f"CAST({self.b(value)} AS integer)"
            exact = Decimal(value) if isinstance(value, int) else Decimal(repr(value))
            return f"CAST({self.b(exact)} AS numeric)"
        if isinstance(value, int) and not -_INT64 <= value < _INT64:
            value = float("inf") if value > 0 else float("-inf")  # beyond every stored number alike
        return self.b(value)

    # --- expressions ------------------------------------------------------------------------------

    def node(self, expression: Any) -> str:
        if "all" in expression:
            parts = [self.node(e) for e in expression["all"]]
            return "(" + " AND ".join(parts) + ")" if parts else "TRUE"
        if "any" in expression:
            return _or([self.node(e) for e in expression["any"]])
        if "not" in expression:
            return f"(NOT {self.node(expression['not'])})"
        name, op, value = expression["field"], expression["op"], expression["value"]
        negated = {"ne": "eq", "not_in": "in"}.get(op)
        if op == "exists" and value is False:
            negated, value = "exists", True
        positive = self.condition(name, negated or op, value)
        test = f"COALESCE(({positive}), FALSE)"
        return f"(NOT {test})" if negated else test

    def condition(self, name: str, op: str, value: Any) -> str:
        """The condition with ``op`` one of eq, in, contains, gt, gte, lt, lte, exists (true)."""
        kind = field_kind(name)
        column = f"{TABLE}.{name}"
        if kind is Kind.CUSTOM:
            return self.custom(name[len(CUSTOM_PREFIX):], op, value)
        if kind is Kind.TAGS:
            return self.tags(column, op, value)
        if kind is Kind.DATETIME:
            return self.datetime(column, op, value)
        if op == "exists":
            return f"{column} IS NOT NULL" + ("" if kind in (Kind.NUMBER, Kind.DATE) else f" AND {column} <> ''")
        values = value if op == "in" else [value]
        if kind is Kind.TEXT:
            self.doubt(self.unfolded(column))
            if op == "contains":
                return self.find(self.fold(column), self.b(value.casefold()))
            return f"{self.fold(column)} IN ({', '.join(self.b(v.casefold()) for v in values)})" if op == "in" else (
                f"{self.fold(column)} {_SQL_OPS[op]} {self.b(value.casefold())}")
        if kind is Kind.STATUS:  # stored as the enum's lower-case value
            return f"{column} IN ({', '.join(self.b(v) for v in values)})"
        if kind is Kind.NUMBER:
            bound = [self.number(v) for v in values]
        else:  # Kind.DATE: ISO text on SQLite, date on PostgreSQL
            bound = [self.b(dt.date.fromisoformat(v) if self.pg else v) for v in values]
        if op == "in":
            return f"{column} IN ({', '.join(bound)})"
        return f"{column} {_SQL_OPS[op]} {bound[0]}"

    def datetime(self, column: str, op: str, value: str) -> str:
        if not self.pg:
            self.doubt(f"{column} NOT LIKE '%+00:00'")
        if len(value) != 10:  # an instant
            return f"{column} {_SQL_OPS[op]} {self.instant(dt.datetime.fromisoformat(value))}"
        day = dt.date.fromisoformat(value)  # compared with the UTC day of the timestamp
        if op in ("eq", "gte", "lt"):
            start = self.instant(dt.datetime.combine(day, dt.time(), dt.UTC))
            if op != "eq":
                return f"{column} {_SQL_OPS[op]} {start}"
        if day == dt.date.max:
            after_day, before_end = "FALSE", f"{column} IS NOT NULL"
        else:
            end = self.instant(dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), dt.UTC))
            after_day, before_end = f"{column} >= {end}", f"{column} < {end}"
        if op == "eq":
            return f"{column} >= {start} AND {before_end}"
        return after_day if op == "gt" else before_end

    def instant(self, value: dt.datetime) -> str:
        value = value.astimezone(dt.UTC)
        return self.b(value if self.pg else value.isoformat(sep=" "))  # as tortoise stores it on SQLite

    def tags(self, column: str, op: str, value: Any) -> str:
        if self.pg:
            array = f"(CASE WHEN jsonb_typeof({column}) = 'array' THEN {column} END)"
            if op == "exists":
                return f"jsonb_array_length({array}) > 0"
            element, source = "t.v", f"jsonb_array_elements_text({array}) AS t(v)"
        else:
            if op == "exists":
                return f"json_array_length({column}) > 0"
            element, source = "t.value", f"json_each({column}) AS t"
        self.doubt(f"EXISTS (SELECT 1 FROM {source} WHERE {self.unfolded(element)})")
        wanted = ", ".join(self.b(v.casefold()) for v in (value if isinstance(value, list) else [value]))
        return f"EXISTS (SELECT 1 FROM {source} WHERE {self.fold(element)} IN ({wanted}))"

    # --- custom fields ----------------------------------------------------------------------------

    def custom(self, key: str, op: str, value: Any) -> str:
        field = self.custom_value(key)
        if op == "exists":
            return self.present(field)
        if op in ("eq", "in"):  # every match is present: "" and null match nothing
            values = value if op == "in" else [value]
            texts = [v.casefold() for v in values if isinstance(v, str) and v]
            numbers = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
            flags = sorted({"true" if v else "false" for v in values if isinstance(v, bool)})
            parts = []
            if texts:
                self.doubt(f"({field.is_text()} AND {self.unfolded(field.text)})")
                parts.append(f"({field.is_text()} AND {self.fold(field.text)} IN ({', '.join(map(self.b, texts))}))")
            if numbers:
                self.doubt(field.big())
                parts.append(f"({field.is_number()} AND {field.number()} IN "
                             f"({', '.join(self.number(v) for v in numbers)}))")
            if flags:
                listed = ", ".join(f"'{flag}'" for flag in flags)
                parts.append(f"({field.is_bool()} AND {field.bool_text()} IN ({listed}))")
            return _or(parts)
        if op == "contains":
            needle = str(value).casefold()
            found = self.contains(field, needle)
            return found if needle else f"{self.present(field)} AND {found}"  # "" is in every present text
        if isinstance(value, str):
            self.doubt(f"({field.is_text()} AND {self.unfolded(field.text)})")
            return (f"{field.is_text()} AND {field.text} <> '' AND "
                    f"{self.fold(field.text)} {_SQL_OPS[op]} {self.b(value.casefold())}")
        self.doubt(field.big())
        return f"{field.is_number()} AND {field.number()} {_SQL_OPS[op]} {self.number(value)}"

    def custom_value(self, key: str) -> _Json:
        data = f"{TABLE}.custom_fields"
        if self.pg:
            k = self.b(key)
            return _Json(True, f"jsonb_typeof({data} -> CAST({k} AS text))", f"({data} ->> CAST({k} AS text))",
                         f"({data} -> CAST({k} AS text))")
        if json.dumps(key) == f'"{key}"':  # a path label matches the stored key only when it needs no escape
            path = self.b(f'$."{key}"')
            return _Json(False, f"json_type({data}, {path})", f"json_extract({data}, {path})")
        k = self.b(key)
        pick = f"FROM json_each({data}) AS kv WHERE kv.key = {k}"
        return _Json(False, f"(SELECT kv.type {pick})", f"(SELECT kv.value {pick})")

    def present(self, v: _Json) -> str:
        """Python's not-empty: present, not null, not "", [] or {}."""
        if self.pg:
            return (f"({v.jsonb} IS NOT NULL AND {v.jsonb} NOT IN "
                    "('null'::jsonb, '\"\"'::jsonb, '[]'::jsonb, '{}'::jsonb))")
        return (f"(CASE COALESCE({v.type}, 'null') WHEN 'null' THEN FALSE WHEN 'text' THEN {v.text} <> '' "
                f"WHEN 'array' THEN {v.text} <> '[]' WHEN 'object' THEN {v.text} <> '{{}}' ELSE TRUE END)")

    def contains(self, v: _Json, needle: str) -> str:
        """``needle in str(x).casefold()``, or for a list ``needle == str(item).casefold()`` for an item (only a
        present value holds a non-empty ``needle``)."""
        n = self.b(needle)
        self.doubt(f"({v.is_text()} AND {self.unfolded(v.text)})")
        self.doubt(f"({v.is_number()} AND NOT {v.is_integer_text()})")
        self.doubt(f"{v.type} = 'object'")
        if self.pg:
            item = _Json(True, "jsonb_typeof(e.v)", "(e.v #>> '{}')", "e.v")
            items = f"jsonb_array_elements(CASE WHEN {v.type} = 'array' THEN {v.jsonb} END) AS e(v)"
        else:
            item = _Json(False, "e.type", "e.value")
            items = f"json_each(CASE WHEN {v.type} = 'array' THEN {v.text} END) AS e"
        nested = ("('array', 'object')" if self.pg else "('array', 'object', 'real')")
        self.doubt(f"EXISTS (SELECT 1 FROM {items} WHERE {item.type} IN {nested} "
                   f"OR ({item.is_number()} AND NOT {item.is_integer_text()}) "
                   f"OR ({item.is_text()} AND {self.unfolded(item.text)}))")
        listed = _or([f"({item.is_text()} AND {self.fold(item.text)} = {n})",
                      f"({item.is_integer_text()} AND CAST({item.text} AS TEXT) = {n})",
                      f"({item.is_bool()} AND {item.bool_text()} = {n})",
                      f"({item.type} = 'null' AND 'none' = {n})"])
        return _or([f"({v.is_text()} AND {self.find(self.fold(v.text), n)})",
                    f"({v.is_integer_text()} AND {self.find(f'CAST({v.text} AS TEXT)', n)})",
                    f"({v.is_bool()} AND {self.find(v.bool_text(), n)})",
                    f"({v.type} = 'array' AND EXISTS (SELECT 1 FROM {items} WHERE {listed}))"])
