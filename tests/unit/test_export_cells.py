"""CSV cells of exports: formula-looking text neutralised, numbers left numeric, values as the API shows them;
files that Python's csv reader reads back as written."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from outboundql.enums import OutreachStatus
from outboundql.exports.cells import GlobalId, cell, neutralise
from outboundql.exports.csv_file import BOM, encode, stream
from tests.helpers import global_id


@pytest.mark.parametrize("text", ["=1+1", "+34600123456", "-2", "@SUM(A1)", "\t=1", "\r=1", "=", "-"])
def test_text_that_starts_like_a_formula_gets_a_quote(text: str) -> None:
    assert neutralise(text) == "'" + text


@pytest.mark.parametrize("text", ["", "plain", " =1", "a=1", "'=1", "1-2", "\n=1", "é=1", "ab@c.d"])
def test_other_text_is_unchanged(text: str) -> None:
    assert neutralise(text) == text


def test_numbers_stay_numbers_even_negative() -> None:
    assert [cell(-5), cell(Decimal("-12.50")), cell(-0.5), cell(0), cell(Decimal("1250.50"))] == [
        "-5", "-12.50", "-0.5", "0", "1250.50"]
    assert cell("-5") == "'-5"  # the same characters as text are neutralised
    assert cell(float("nan")) == "" and cell(float("-inf")) == ""


def test_values_are_written_as_the_api_shows_them() -> None:
    madrid = timezone(timedelta(hours=1))
    assert cell(None) == ""
    assert cell(True) == "true" and cell(False) == "false"
    assert cell(OutreachStatus.NOT_STARTED) == "NOT_STARTED"
    assert cell(datetime(2026, 12, 1, 10, 30, tzinfo=madrid)) == "2026-12-01T09:30:00+00:00"
    assert cell(datetime(2026, 12, 1, 9, 30, 0, 250, tzinfo=UTC)) == "2026-12-01T09:30:00.000250+00:00"
    assert cell(date(2026, 11, 2)) == "2026-11-02"
    assert cell(GlobalId("Account", 7)) == global_id("Account", 7)
    assert cell(["vip", "=x"]) == "vip; =x" and cell(["=x", "vip"]) == "'=x; vip" and cell([]) == ""
    assert cell({"b": 1, "a": [True, None]}) == '{"a":[true,null],"b":1}'
    assert cell([1, 2]) == "[1,2]"
    assert cell(["-"]) == "'-"


def test_a_file_reads_back_as_written() -> None:
    rows = [["a,b", 'say "hi"', "line\nbreak", "cr\r\nlf", "=evil", -3, None, "ünï©ødé"]]
    text = encode(rows).decode("utf-8")
    assert text.endswith("\r\n")
    back = next(csv.reader(io.StringIO(text, newline="")))
    assert back == ["a,b", 'say "hi"', "line\nbreak", "cr\r\nlf", "'=evil", "-3", "", "ünï©ødé"]


async def test_a_stream_starts_with_the_bom_and_the_header_then_one_chunk_per_batch() -> None:
    async def batches():  # type: ignore[no-untyped-def]
        yield [[1, "x"]]
        yield []
        yield [[2, "=y"], [3, "z"]]

    chunks = [chunk async for chunk in stream(["id", "=name"], batches())]
    assert len(chunks) == 3
    assert chunks[0] == (BOM + "id,'=name\r\n").encode("utf-8")
    assert b"".join(chunks).decode("utf-8-sig") == "id,'=name\r\n1,x\r\n2,'=y\r\n3,z\r\n"
