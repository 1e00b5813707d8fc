"""The saved-filter expression language: validation (paths and messages) and evaluation over rows."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from outboundql.enums import AccountStatus
from outboundql.errors import Collector
from outboundql.services.filter_expressions import FIELDS, OPS, columns, match, validate_expression


def issues(expression: Any) -> list[tuple[str | None, str]]:
    check = Collector()
    validate_expression(expression, check, path="input.expression")
    return [(i.field, i.message) for i in check.items]


def canonical(expression: Any) -> Any:
    check = Collector()
    out = validate_expression(expression, check)
    assert not check.items, check.items
    return out


def cond(field: str, op: str, value: Any = None, **extra: Any) -> dict[str, Any]:
    node = {"field": field, "op": op, **extra}
    if value is not None:
        node["value"] = value
    return node


ROWS: list[dict[str, Any]] = [
    {"id": 1, "name": "Acme Corp", "domain": "acme.com", "industry": "Software", "employee_count": 50,
     "country": "FR", "city": "Paris", "language": "fr", "status": AccountStatus.NEW, "tags": ["VIP", "saas"],
     "time_zone": "Europe/Paris", "source": "import", "created_at": dt.datetime(2026, 1, 10, 12, 0, tzinfo=dt.UTC),
     "contract_end_date": dt.date(2026, 6, 30),
     "custom_fields": {"segment": "Enterprise", "arr": 120000, "regions": ["EU", "US"], "active": True}},
    {"id": 2, "name": "Beta GmbH", "domain": "beta.de", "industry": "Manufacturing", "employee_count": 500,
     "country": "DE", "city": "Berlin", "language": "de", "status": AccountStatus.CUSTOMER, "tags": ["saas"],
     "time_zone": None, "source": None, "created_at": dt.datetime(2026, 2, 1, 8, 30),  # naive: read as UTC
     "contract_end_date": None,
     "custom_fields": {"segment": "SMB", "arr": 9000, "active": False}},
    {"id": 3, "name": "Gamma", "domain": None, "industry": None, "employee_count": None,
     "country": None, "city": "", "language": None, "status": AccountStatus.DO_NOT_CONTACT, "tags": [],
     "time_zone": "Asia/Tokyo", "source": "api", "created_at": dt.datetime(2026, 3, 5, tzinfo=dt.UTC),
     "contract_end_date": dt.date(2027, 1, 1),
     "custom_fields": {}},
]


def ids(expression: Any) -> list[int]:
    return match(canonical(expression), ROWS)


# --- validation -----------------------------------------------------------------------------------


def test_unknown_operator_names_its_path_and_the_choices() -> None:
    expression = {"all": [cond("country", "eq", "FR"), cond("name", "eq", "x"), cond("employee_count", "lt=", 5)]}
    [(path, message)] = issues(expression)
    assert path == "input.expression.all[2].op"
    assert message.startswith("Unknown operator 'lt='; use one of ")
    assert all(op in message for op in OPS)


def test_unknown_field_suggests_the_fields_and_custom_fields() -> None:
    [(path, message)] = issues({"any": [cond("colour", "eq", "red")]})
    assert path == "input.expression.any[0].field"
    assert "Unknown field 'colour'" in message and "cf.<key>" in message and "employee_count" in message


def test_every_problem_is_reported_at_once_with_its_path() -> None:
    expression = {"all": [
        cond("status", "eq", "sleeping"),
        {"not": cond("employee_count", "gt", "many")},
        cond("tags", "eq", "vip"),
        cond("contract_end_date", "lt", "31/12/2026"),
        {"any": []},
        "country = FR",
        {"field": "name", "op": "eq", "value": "x", "extra": 1},
        {"all": [], "any": []},
        cond("name", "in", []),
        cond("name", "exists", "yes"),
        cond("created_at", "gte", "yesterday"),
        cond("name", "eq"),
    ]}
    found = dict(issues(expression))
    p = "input.expression.all"
    assert "Unknown account status \"sleeping\"" in found[f"{p}[0].value"]
    assert "do_not_contact" in found[f"{p}[0].value"]
    assert "is a number" in found[f"{p}[1].not.value"]
    assert found[f"{p}[2].op"] == ("Operator 'eq' does not apply to tags field 'tags'; "
                                  "use one of contains, in, not_in, exists.")
    assert "YYYY-MM-DD" in found[f"{p}[3].value"]
    assert "at least one" in found[f"{p}[4].any"]
    assert "Expected an object" in found[f"{p}[5]"]
    assert "'extra'" in found[f"{p}[6]"]
    assert "exactly one key" in found[f"{p}[7]"]
    assert "non-empty list" in found[f"{p}[8].value"]
    assert "true or false" in found[f"{p}[9].value"]
    assert "timestamp" in found[f"{p}[10].value"]
    assert "needs a value" in found[f"{p}[11].value"]
    assert len(found) == 12


@pytest.mark.parametrize(("field", "op"), [
    ("name", "gt"), ("employee_count", "contains"), ("status", "exists"), ("status", "lt"),
    ("created_at", "contains"), ("created_at", "in"), ("contract_end_date", "contains"),
])
def test_operators_that_do_not_apply_to_a_field_kind_are_refused(field: str, op: str) -> None:
    [(path, message)] = issues(cond(field, op, "x"))
    assert path == "input.expression.op"
    assert f"Operator {op!r} does not apply" in message


@pytest.mark.parametrize("value", [True, "12", None, [1], float("nan"), float("inf")])
def test_numbers_must_be_numbers(value: Any) -> None:
    node = {"field": "employee_count", "op": "eq", "value": value}
    [(path, _)] = issues(node)
    assert path == "input.expression.value"


def test_custom_field_values_must_be_json_scalars() -> None:
    assert issues(cond("cf.segment", "eq", {"a": 1}))[0][0] == "input.expression.value"
    assert issues(cond("cf.arr", "gt", True))[0][0] == "input.expression.value"
    assert issues(cond("cf.regions", "contains", [1]))[0][0] == "input.expression.value"
    assert issues(cond("cf.", "eq", 1))[0][0] == "input.expression.field"
    assert issues(cond("cf.x", "eq", None)) == [("input.expression.value", "Operator 'eq' needs a value.")]
    assert issues(cond("cf.arr", "gt", float("-inf")))[0][0] == "input.expression.value"


def test_depth_size_and_condition_limits() -> None:
    deep: Any = cond("name", "eq", "x")
    for _ in range(12):
        deep = {"not": deep}
    assert any("nest at most" in m for _, m in issues(deep))
    many = {"all": [cond("name", "eq", f"n{i}") for i in range(201)]}
    assert any("at most 200" in m for _, m in issues(many))
    big = {"all": [cond("name", "in", ["x" * 100] * 500)] * 2}
    assert any("too large" in m for _, m in issues(big))


def test_canonical_form_normalises_names_ops_and_values() -> None:
    assert canonical({"all": [
        {"field": "employeeCount", "op": "GTE", "value": 10},
        {"field": "status", "op": "in", "value": ["CUSTOMER", " Lost "]},
        {"field": "country", "op": "eq", "value": "fr"},
        {"field": "name", "op": "exists"},
        {"field": "contract_end_date", "op": "lt", "value": "2026-07-01"},
        {"field": "created_at", "op": "gt", "value": "2026-01-01T10:00:00"},
    ]}) == {"all": [
        {"field": "employee_count", "op": "gte", "value": 10},
        {"field": "status", "op": "in", "value": ["customer", "lost"]},
        {"field": "country", "op": "eq", "value": "FR"},
        {"field": "name", "op": "exists", "value": True},
        {"field": "contract_end_date", "op": "lt", "value": "2026-07-01"},
        {"field": "created_at", "op": "gt", "value": "2026-01-01T10:00:00+00:00"},
    ]}


def test_columns_lists_what_evaluation_reads() -> None:
    expression = {"any": [cond("name", "eq", "x"), {"not": cond("cf.a", "exists", True)}, {"all": []}]}
    assert columns(canonical(expression)) == {"name", "custom_fields"}


# --- evaluation -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("expression", "expected"), [
    # text: case-insensitive
    (cond("name", "eq", "acme corp"), [1]),
    (cond("name", "ne", "ACME CORP"), [2, 3]),
    (cond("domain", "in", ["ACME.com", "beta.de"]), [1, 2]),
    (cond("domain", "not_in", ["acme.com"]), [2, 3]),  # an empty value is "not in"
    (cond("industry", "contains", "WARE"), [1]),
    (cond("city", "exists", True), [1, 2]),  # "" counts as empty
    (cond("city", "exists", False), [3]),
    (cond("country", "eq", "de"), [2]),
    (cond("language", "in", ["fr", "de"]), [1, 2]),
    (cond("time_zone", "eq", "europe/paris"), [1]),
    (cond("time_zone", "exists", False), [2]),
    (cond("source", "exists", False), [2]),
    # numbers
    (cond("employee_count", "gt", 50), [2]),
    (cond("employee_count", "gte", 50), [1, 2]),
    (cond("employee_count", "lt", 500), [1]),
    (cond("employee_count", "lte", 500), [1, 2]),
    (cond("employee_count", "eq", 50), [1]),
    (cond("employee_count", "ne", 50), [2, 3]),
    (cond("employee_count", "in", [500, 7]), [2]),
    (cond("employee_count", "not_in", [500]), [1, 3]),
    (cond("employee_count", "exists", False), [3]),
    # status
    (cond("status", "eq", "customer"), [2]),
    (cond("status", "ne", "new"), [2, 3]),
    (cond("status", "in", ["new", "do_not_contact"]), [1, 3]),
    (cond("status", "not_in", ["DO_NOT_CONTACT"]), [1, 2]),
    # tags
    (cond("tags", "contains", "vip"), [1]),
    (cond("tags", "in", ["nope", "SAAS"]), [1, 2]),
    (cond("tags", "not_in", ["vip"]), [2, 3]),
    (cond("tags", "exists", True), [1, 2]),
    (cond("tags", "exists", False), [3]),
    # dates
    (cond("contract_end_date", "lt", "2026-12-31"), [1]),
    (cond("contract_end_date", "gte", "2026-06-30"), [1, 3]),
    (cond("contract_end_date", "eq", "2027-01-01"), [3]),
    (cond("contract_end_date", "ne", "2027-01-01"), [1, 2]),
    (cond("contract_end_date", "in", ["2026-06-30", "2027-01-01"]), [1, 3]),
    (cond("contract_end_date", "exists", False), [2]),
    (cond("contract_end_date", "lte", "2026-06-30"), [1]),
    (cond("contract_end_date", "gt", "2026-06-30"), [3]),
    # created_at: a date compares with the day, a timestamp with the instant (naive = UTC)
    (cond("created_at", "eq", "2026-02-01"), [2]),
    (cond("created_at", "gte", "2026-02-01"), [2, 3]),
    (cond("created_at", "lt", "2026-02-01T08:30:00Z"), [1]),
    (cond("created_at", "lte", "2026-02-01T09:30:00+01:00"), [1, 2]),
    (cond("created_at", "gt", "2026-02-01T08:30:00"), [3]),
    (cond("created_at", "ne", "2026-01-10"), [2, 3]),
    # custom fields
    (cond("cf.segment", "eq", "enterprise"), [1]),
    (cond("cf.segment", "ne", "SMB"), [1, 3]),
    (cond("cf.segment", "in", ["smb", "mid"]), [2]),
    (cond("cf.segment", "not_in", ["smb"]), [1, 3]),
    (cond("cf.segment", "contains", "prise"), [1]),
    (cond("cf.regions", "contains", "eu"), [1]),
    (cond("cf.arr", "gt", 10000), [1]),
    (cond("cf.arr", "gte", 9000), [1, 2]),
    (cond("cf.arr", "lt", 10000), [2]),
    (cond("cf.arr", "lte", 120000), [1, 2]),
    (cond("cf.arr", "gt", "1000"), []),  # a string never orders against a number
    (cond("cf.segment", "gt", "M"), [2]),
    (cond("cf.active", "eq", True), [1]),
    (cond("cf.active", "eq", 1), []),  # booleans are not numbers
    (cond("cf.arr", "exists", True), [1, 2]),
    (cond("cf.arr", "exists", False), [3]),
    (cond("cf.missing", "exists", True), []),
])
def test_each_operator_on_each_field_kind(expression: Any, expected: list[int]) -> None:
    assert ids(expression) == expected


def test_combinators() -> None:
    assert ids({"all": []}) == [1, 2, 3]
    assert ids({"all": [cond("tags", "contains", "saas"), cond("employee_count", "gt", 100)]}) == [2]
    assert ids({"any": [cond("country", "eq", "FR"), cond("status", "eq", "do_not_contact")]}) == [1, 3]
    assert ids({"not": cond("country", "eq", "FR")}) == [2, 3]
    assert ids({"all": [{"not": {"any": [cond("country", "eq", "FR"), cond("country", "eq", "DE")]}}]}) == [3]


def test_every_account_field_is_covered_by_the_table() -> None:
    assert set(FIELDS) == {"name", "domain", "industry", "employee_count", "country", "city", "language", "time_zone",
                           "status", "tags", "source", "created_at", "contract_end_date"}
