"""The nesting scan that guards every JSON the API parses (`outboundql.gql.json_nesting`)."""

from __future__ import annotations

import json

import pytest

from outboundql.gql.json_nesting import TooDeeplyNested, check_nesting, loads, nesting_depth


@pytest.mark.parametrize(("text", "depth"), [
    ("1", 0),
    ("[]", 1),
    ('{"a": [1, {"b": []}]}', 4),
    ('["[[[[", "]]"]', 1),  # brackets in strings are text
    (r'["\"[[[", "\\", [[]]]', 3),  # escaped quotes and backslashes end strings where JSON does
    ("[" * 5000, 5000),  # malformed: what a parser would descend before failing
    ('"[[[[', 4),  # an unterminated string hides nothing
])
def test_nesting_depth(text: str, depth: int) -> None:
    assert nesting_depth(text) == depth


def test_check_nesting_refuses_past_the_limit_only() -> None:
    check_nesting("[" * 8 + "]" * 8, 8)
    with pytest.raises(TooDeeplyNested, match=r"^JSON nests arrays and objects more than 8 levels deep"):
        check_nesting("[" * 9 + "]" * 9, 8)
    check_nesting("[[]]" * 1000, 8)  # many brackets, shallow


def test_loads_parses_what_json_does() -> None:
    text = json.dumps({"a": [1, 2, {"b": "é\U0001f600"}]})
    assert loads(text, 8) == json.loads(text)
    assert loads(text.encode("utf-16"), 8) == json.loads(text)  # bytes decoded as json.loads would


def test_loads_refuses_before_parsing_and_bytes_that_are_no_text() -> None:
    with pytest.raises(TooDeeplyNested):
        loads(b"[" * 100_000, 64)  # json.loads would raise RecursionError
    with pytest.raises(json.JSONDecodeError):
        loads(b'{"a": "\x80"}', 64)
