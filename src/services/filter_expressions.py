"""The filter expression language of saved filters: validation and matching (pure functions).

An expression is JSON, either a combinator or a condition::

    {"all": [expr, …]}          every sub-expression holds (an empty list matches every account)
    {"any": [expr, …]}          at least one holds (at least one sub-expression)
    {"not": expr}               the sub-expression does not hold
    {"field": F, "op": OP, "value": V}

Fields are account columns (``name``, ``domain``, ``industry``, ``employee_count``, ``country``,
``city``, ``language``, ``time_zone``, ``status``, ``tags``, ``source``, ``created_at``, ``contract_end_date``)
or custom fields as ``cf.<key>``. Operators: ``eq ne in not_in gt gte lt lte contains exists``.

Semantics, the same on every database because matching runs in Python over one query's rows:

* text compares case-insensitively (``eq``, ``in``, ``contains`` = substring);
* ``tags``: ``contains`` = has the tag, ``in`` = has any of, ``not_in`` = has none of;
* an empty value (null, ``""``, no tags) fails every test except ``ne``, ``not_in`` and
  ``exists: false``;
* ``cf.<key>`` values are untyped JSON: numbers compare as numbers, strings as text (ISO dates
  order correctly), a list ``contains`` an element;
* dates are ISO ``YYYY-MM-DD``; ``created_at`` also takes a full ISO timestamp (a bare date then
  compares with the day the account was created, in UTC).
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import math
from collections.abc import Callable
from typing import Any

from outboundql.enums import AccountStatus
from outboundql.errors import Collector
from outboundql.services import fields

MAX_DEPTH = 10
MAX_CONDITIONS = 200
MAX_LIST_VALUES = 500
MAX_EXPRESSION_BYTES = 50_000
CUSTOM_PREFIX = "cf."

OPS = ("eq", "ne", "in", "not_in", "gt", "gte", "lt", "lte", "contains", "exists")


class Kind(enum.Enum):
    TEXT = "text"
    NUMBER = "number"
    DATE = "date"
    DATETIME = "datetime"
    STATUS = "status"
    TAGS = "tags"
    CUSTOM = "custom"


#: Account columns a filter may test, and their kind.
FIELDS: dict[str, Kind] = {
    "name": Kind.TEXT,
    "domain": Kind.TEXT,
    "industry": Kind.TEXT,
    "employee_count": Kind.NUMBER,
    "country": Kind.TEXT,
    "city": Kind.TEXT,
    "language": Kind.TEXT,
    "time_zone": Kind.TEXT,
    "status": Kind.STATUS,
    "tags": Kind.TAGS,
    "source": Kind.TEXT,
    "created_at": Kind.DATETIME,
    "contract_end_date": Kind.DATE,
}

_ORDERED = ("gt", "gte", "lt", "lte")
KIND_OPS: dict[Kind, tuple[str, ...]] = {
    Kind.TEXT: ("eq", "ne", "in", "not_in", "contains", "exists"),
    Kind.NUMBER: ("eq", "ne", "in", "not_in", *_ORDERED, "exists"),
    Kind.DATE: ("eq", "ne", "in", "not_in", *_ORDERED, "exists"),
    Kind.DATETIME: ("eq", "ne", *_ORDERED),
    Kind.STATUS: ("eq", "ne", "in", "not_in"),
    Kind.TAGS: ("contains", "in", "not_in", "exists"),
    Kind.CUSTOM: OPS,
}


def _camel_to_snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name)


def field_kind(name: str) -> Kind | None:
    if name.startswith(CUSTOM_PREFIX) and len(name) > len(CUSTOM_PREFIX):
        return Kind.CUSTOM
    return FIELDS.get(name)


# --- validation ------------------------------------------------------------------------------------


def validate_expression(expression: Any, check: Collector, path: str = "expression") -> Any:
    """Check ``expression`` and return its canonical form (snake_case fields, lower-case operators,
    normalised values). Every problem is added to ``check`` with its path under ``path``, e.g.
    ``expression.all[2].op``."""
    try:
        size = len(json.dumps(expression))
    except (TypeError, ValueError):
        check.add(path, "The expression must be JSON.")
        return None
    if size > MAX_EXPRESSION_BYTES:
        check.add(path, f"The expression is too large ({size} bytes; at most {MAX_EXPRESSION_BYTES}).")
        return None
    try:
        fields.storable_json(expression, "The expression")
    except ValueError as exc:
        check.add(path, str(exc))
        return None
    counter = [0]
    out = _validate(expression, check, path, 1, counter)
    if counter[0] > MAX_CONDITIONS:
        check.add(path, f"The expression has {counter[0]} conditions; at most {MAX_CONDITIONS}.")
    return out


def _validate(node: Any, check: Collector, path: str, depth: int, counter: list[int]) -> Any:
    if depth > MAX_DEPTH:
        check.add(path, f"Expressions may nest at most {MAX_DEPTH} levels deep.")
        return None
    if not isinstance(node, dict):
        check.add(path, 'Expected an object: {"all": [...]}, {"any": [...]}, {"not": {...}} or '
                        '{"field": ..., "op": ..., "value": ...}.')
        return None
    combinators = [k for k in ("all", "any", "not") if k in node]
    if combinators:
        if len(node) != 1:
            extra = sorted(k for k in node if k != combinators[0])
            check.add(path, f"A combinator object holds exactly one key ({combinators[0]!r}); "
                            f"remove {', '.join(repr(k) for k in extra)}.")
            return None
        key = combinators[0]
        if key == "not":
            return {"not": _validate(node["not"], check, f"{path}.not", depth + 1, counter)}
        items = node[key]
        if not isinstance(items, list):
            check.add(f"{path}.{key}", f"{key!r} takes a list of expressions.")
            return None
        if key == "any" and not items:
            check.add(f"{path}.any", "'any' needs at least one expression (an empty 'any' matches nothing).")
        return {key: [_validate(item, check, f"{path}.{key}[{i}]", depth + 1, counter)
                      for i, item in enumerate(items)]}
    unknown = sorted(set(node) - {"field", "op", "value"})
    if unknown:
        check.add(path, f"Unknown key(s) {', '.join(repr(k) for k in unknown)}; a condition has 'field', 'op' "
                        "and 'value', a combinator is 'all', 'any' or 'not'.")
        return None
    counter[0] += 1
    return _validate_condition(node, check, path)


def _validate_condition(node: dict[str, Any], check: Collector, path: str) -> dict[str, Any] | None:
    name = node.get("field")
    op = node.get("op")
    kind: Kind | None = None
    if not isinstance(name, str) or not name:
        check.add(f"{path}.field", "Give the field to test, e.g. \"country\" or \"cf.segment\".")
    else:
        if not name.startswith(CUSTOM_PREFIX):
            name = _camel_to_snake(name)
        kind = field_kind(name)
        if kind is None:
            check.add(f"{path}.field", f"Unknown field {node['field']!r}; use one of {', '.join(FIELDS)}, "
                                       "or cf.<key> for a custom field.")
    if not isinstance(op, str) or not op:
        check.add(f"{path}.op", f"Give an operator: one of {', '.join(OPS)}.")
        return None
    op = op.lower()
    if op not in OPS:
        check.add(f"{path}.op", f"Unknown operator {node['op']!r}; use one of {', '.join(OPS)}.")
        return None
    if kind is None or not isinstance(name, str):
        return None
    if op not in KIND_OPS[kind]:
        check.add(f"{path}.op", f"Operator {op!r} does not apply to {kind.value} field {name!r}; "
                                f"use one of {', '.join(KIND_OPS[kind])}.")
        return None
    value_path = f"{path}.value"
    if op == "exists":
        present = node.get("value", True)
        if not isinstance(present, bool):
            check.add(value_path, "'exists' takes true or false.")
            return None
        return {"field": name, "op": op, "value": present}
    if "value" not in node:
        check.add(value_path, f"Operator {op!r} needs a value.")
        return None
    raw = node["value"]
    try:
        if op in ("in", "not_in"):
            if not isinstance(raw, list) or not raw:
                raise ValueError(f"{op!r} takes a non-empty list of values.")
            if len(raw) > MAX_LIST_VALUES:
                raise ValueError(f"{op!r} takes at most {MAX_LIST_VALUES} values.")
            value: Any = [_scalar(kind, name, op, v) for v in raw]
        else:
            value = _scalar(kind, name, op, raw)
    except ValueError as exc:
        check.add(value_path, str(exc))
        return None
    return {"field": name, "op": op, "value": value}


def _scalar(kind: Kind, name: str, op: str, value: Any) -> Any:
    """One value checked against the field's kind, in canonical form."""
    if isinstance(value, float) and not math.isfinite(value):  # JSON has no NaN or infinity
        raise ValueError(f"{name!r} compares with finite numbers (got {value}).")
    if kind is Kind.TEXT or kind is Kind.TAGS:
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"{name!r} is text: give a non-empty string (got {json.dumps(value)}).")
        text = value.strip()
        return text.upper() if name == "country" else text
    if kind is Kind.NUMBER:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"{name!r} is a number: give a number (got {json.dumps(value)}).")
        return value
    if kind is Kind.STATUS:
        statuses = [s.value for s in AccountStatus]
        if not isinstance(value, str) or value.strip().lower() not in statuses:
            raise ValueError(f"Unknown account status {json.dumps(value)}; use one of {', '.join(statuses)}.")
        return value.strip().lower()
    if kind is Kind.DATE:
        try:
            return dt.date.fromisoformat(value).isoformat()
        except (TypeError, ValueError):
            raise ValueError(f"{name!r} is a date: give YYYY-MM-DD (got {json.dumps(value)}).") from None
    if kind is Kind.DATETIME:
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value).isoformat()
            except ValueError:
                try:
                    return _aware(dt.datetime.fromisoformat(value)).isoformat()
                except ValueError:
                    pass
        raise ValueError(f"{name!r} is a timestamp: give YYYY-MM-DD or an ISO 8601 date-time "
                         f"(got {json.dumps(value)}).")
    # custom fields: untyped JSON scalars
    if op in _ORDERED:
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise ValueError(f"{op!r} compares numbers or strings (got {json.dumps(value)}).")
    elif op == "contains":
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            raise ValueError(f"'contains' takes a string or a number (got {json.dumps(value)}).")
    elif not isinstance(value, (str, int, float, bool)) and value is not None:
        raise ValueError(f"Custom field values compare with a string, number, boolean or null "
                         f"(got {json.dumps(value)}).")
    return value


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


# --- evaluation ------------------------------------------------------------------------------------

Row = dict[str, Any]
Predicate = Callable[[Row], bool]


def columns(expression: Any) -> set[str]:
    """The account columns a (valid) expression reads."""
    if not isinstance(expression, dict):
        return set()
    for key in ("all", "any"):
        if key in expression:
            return set().union(*(columns(e) for e in expression[key]))
    if "not" in expression:
        return columns(expression["not"])
    name = expression["field"]
    return {"custom_fields"} if name.startswith(CUSTOM_PREFIX) else {name}


def compile_expression(expression: Any) -> Predicate:
    """A predicate over a row dict (column name → value) for a valid, canonical expression."""
    if "all" in expression:
        parts = [compile_expression(e) for e in expression["all"]]
        return lambda row: all(p(row) for p in parts)
    if "any" in expression:
        parts = [compile_expression(e) for e in expression["any"]]
        return lambda row: any(p(row) for p in parts)
    if "not" in expression:
        inner = compile_expression(expression["not"])
        return lambda row: not inner(row)
    return _condition(expression["field"], expression["op"], expression["value"])


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _condition(name: str, op: str, value: Any) -> Predicate:
    kind = field_kind(name)
    assert kind is not None, name
    if kind is Kind.CUSTOM:
        key = name[len(CUSTOM_PREFIX):]

        def get(row: Row) -> Any:
            return (row.get("custom_fields") or {}).get(key)
    else:
        def get(row: Row) -> Any:
            return row.get(name)

    if op == "exists":
        return lambda row: (not _empty(get(row))) is value
    if kind is Kind.TAGS:
        wanted = {v.casefold() for v in (value if isinstance(value, list) else [value])}

        def tags(row: Row) -> set[str]:
            return {str(t).casefold() for t in (get(row) or [])}

        if op == "not_in":
            return lambda row: not (tags(row) & wanted)
        return lambda row: bool(tags(row) & wanted)  # contains, in
    test = _test(kind, op, value)
    if op in ("ne", "not_in"):
        return lambda row: _empty(get(row)) or test(get(row))
    return lambda row: not _empty(get(row)) and test(get(row))


def _test(kind: Kind, op: str, value: Any) -> Callable[[Any], bool]:
    """The comparison for a present (non-empty) value."""
    norm = _normaliser(kind, value)
    if op in ("in", "not_in"):
        options = [norm(v) for v in value]

        def found(x: Any) -> bool:
            return any(_same(norm(x), o) for o in options)

        return found if op == "in" else (lambda x: not found(x))
    target = norm(value)
    if op == "eq":
        return lambda x: _same(norm(x), target)
    if op == "ne":
        return lambda x: not _same(norm(x), target)
    if op == "contains":
        needle = str(value).casefold()
        return lambda x: any(needle == str(i).casefold() for i in x) if isinstance(x, list) else (
            needle in str(x).casefold())
    compare: Callable[[Any, Any], Any] = {"gt": lambda a, b: a > b, "gte": lambda a, b: a >= b,
               "lt": lambda a, b: a < b, "lte": lambda a, b: a <= b}[op]

    def ordered(x: Any) -> bool:
        a = norm(x)
        if not _comparable(a, target):
            return False
        return bool(compare(a, target))

    return ordered


def _normaliser(kind: Kind, value: Any) -> Callable[[Any], Any]:
    if kind in (Kind.TEXT, Kind.STATUS):
        return lambda x: str(getattr(x, "value", x)).casefold()
    if kind is Kind.DATE:
        return lambda x: x if isinstance(x, dt.date) else dt.date.fromisoformat(x)
    if kind is Kind.DATETIME:
        sample = value[0] if isinstance(value, list) else value
        by_day = len(sample) == 10  # a bare date compares with the day of creation (UTC)

        def norm(x: Any) -> Any:
            if isinstance(x, str):
                return dt.date.fromisoformat(x) if by_day else _aware(dt.datetime.fromisoformat(x))
            if isinstance(x, dt.datetime):
                x = _aware(x).astimezone(dt.UTC)
                return x.date() if by_day else x
            return x

        return norm
    if kind is Kind.CUSTOM:
        return lambda x: x.casefold() if isinstance(x, str) else x
    return lambda x: x


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if isinstance(a, str) and isinstance(b, str):
        return a.casefold() == b.casefold()
    return bool(a == b)


def _comparable(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return False
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return True
    return type(a) is type(b)


def match(expression: Any, rows: list[Row]) -> list[int]:
    predicate = compile_expression(expression)
    return [row["id"] for row in rows if predicate(row)]
