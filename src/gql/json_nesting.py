"""How deeply a JSON text nests, measured before it is parsed.

Python's ``json`` parser recurses once per level of arrays and objects: a 2 KB body of a thousand
``[`` raises RecursionError, and a few hundred levels that do parse would make every later walk of
the value (GraphQL's variable coercion, services, the database driver) recurse as deeply. The
scan below counts levels without recursing and without building anything: strings are cut out
first (a bracket inside a string is text), then the running balance of the remaining brackets is
summed in C (``itertools.accumulate``). A text that opens no more brackets than the limit cannot
nest deeper, so ordinary requests are let through by two ``str.count`` calls.
"""

from __future__ import annotations

import itertools
import json
import re

_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


class TooDeeplyNested(json.JSONDecodeError):
    """A JSON text nesting arrays and objects deeper than allowed (a JSONDecodeError, so code that
    refuses malformed JSON refuses it too)."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"JSON nests arrays and objects more than {limit} levels deep; at most {limit} are "
                         "allowed", "", 0)
        self.message = self.msg + "."


def nesting_depth(text: str) -> int:
    """The deepest nesting of arrays and objects in ``text`` (for malformed JSON: an upper bound of what
    a parser would descend before failing)."""
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    return max(itertools.accumulate(map(_STEP.__getitem__, brackets)), default=0)


def check_nesting(text: str, limit: int) -> None:
    """Raise `TooDeeplyNested` when ``text`` nests deeper than ``limit``."""
    if text.count("[") + text.count("{") > limit and nesting_depth(text) > limit:
        raise TooDeeplyNested(limit)


def loads(data: str | bytes, limit: int) -> object:
    """``json.loads`` for untrusted input: refused (`TooDeeplyNested`) before parsing when it nests
    deeper than ``limit``; bytes are decoded as ``json.loads`` would decode them, and bytes that are no
    text at all are a JSONDecodeError rather than a UnicodeDecodeError."""
    if isinstance(data, (bytes, bytearray)):
        try:
            data = bytes(data).decode(json.detect_encoding(data), "surrogatepass")
        except UnicodeDecodeError as exc:
            raise json.JSONDecodeError(f"not text in {exc.encoding}", "", 0) from None
    check_nesting(data, limit)
    return json.loads(data)
