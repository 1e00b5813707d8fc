"""Reading an uploaded account file into a table: encoding, delimiter, header, rows with their line numbers.

Nothing here touches the database. A file that cannot be read at all raises `Refused`; a row that cannot be
used as is keeps its `problem` so the caller reports it with its line number and goes on with the others.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass

MAX_ROWS = 10_000
MAX_CELL_CHARS = 100_000  # a longer cell makes its row unusable (no field of an account is near this)
MAX_HEADER_CHARS = 200  # a longer "header" means the first line is not a header row: the file is not a table
DELIMITERS = (",", ";", "\t", "|")
_MAX_REPAIRS = 20  # records cut at a quote that is never closed, each reading the rest of the file again
_SNIFF_RECORDS = 50  # records read per candidate delimiter to choose one
_MAX_CONTROL_SHARE = 0.01  # more control characters than this (bar tab and line breaks): a binary file

# Python's csv refuses fields over 128 KiB by default and raises mid-file; cells are measured here instead.
csv.field_size_limit(2**31 - 1)

_SEP_LINE = re.compile(r"sep=([,;\t|])(\r\n|\n|\r|$)")
# The characters of Unicode's categories Cc (controls) and Cs (surrogates) but tab and line breaks.
_CONTROLS = re.compile("[^\t\n\r\f\v\x20-\x7e\xa0-\ud7ff\ue000-\U0010ffff]")
_DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}


class Refused(Exception):
    """The whole file is refused and nothing is written: ``code`` for programs, ``message`` for people."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class Row:
    """One record of the file. ``line`` is the file's line where it starts (the header is line 1, line breaks
    inside quoted cells are counted); ``cells`` are stripped, as many as the header has; ``problem`` says why
    the row cannot be used as is, else None."""

    line: int
    cells: list[str]
    problem: str | None = None


@dataclass(frozen=True, slots=True)
class Table:
    """A file read: unique header names, its data rows (blank lines left out), how it was decoded
    (``utf-8``, ``utf-8-sig``, ``utf-16-le``, ``utf-16-be``, ``cp1252`` or ``latin-1``) and its delimiter."""

    headers: list[str]
    rows: list[Row]
    encoding: str
    delimiter: str


def read_table(data: bytes, *, max_rows: int = MAX_ROWS) -> Table:
    """Decode ``data``, sniff its delimiter and read its header and rows; raise `Refused` when the file is
    empty, not a CSV file, has a header but no rows, or has more than ``max_rows`` data rows."""
    if not data.strip():
        raise Refused("EMPTY", "The file is empty.")
    text, encoding = decode(data)
    if text.startswith("\ufeff"):
        text = text[1:]
    text = text.rstrip("\x1a")  # the end-of-file mark some old Windows programs append
    if not text.strip():
        raise Refused("EMPTY", "The file is empty.")
    _refuse_binary(text)
    declared = _SEP_LINE.match(text)  # Excel's "sep=;" first line names the delimiter
    if declared:
        delimiter, text = declared.group(1), "\n" + text[declared.end():]  # the line stays counted, blank
    else:
        delimiter = sniff_delimiter(text)
    records = _records(text, delimiter)
    try:
        first = next(records, None)
        if first is None:
            raise Refused("EMPTY", "The file is empty.")
        headers = _headers(first[1])
        rows: list[Row] = []
        for line, cells, problem in records:
            if len(rows) == max_rows:
                raise Refused(
                    "TOO_MANY_ROWS",
                    f"The file has more than {max_rows:,} rows; at most {max_rows:,} rows can be imported from one "
                    "file. Split it into smaller files.",
                )
            rows.append(_row(line, cells, headers, problem))
    except csv.Error as exc:
        raise Refused("NOT_CSV", f"The file cannot be read as CSV ({exc}).") from exc
    if not rows:
        raise Refused("EMPTY", "The file has a header row but no rows below it.")
    return Table(headers=headers, rows=rows, encoding=encoding, delimiter=delimiter)


def decode(data: bytes) -> tuple[str, str]:
    """The text of ``data`` and the name of its encoding: a byte order mark first, then UTF-16 without one when
    evident, then strict UTF-8, then Windows-1252 (when it has bytes 0x80–0x9F that Windows-1252 gives
    letters to), then Latin-1. Raise `Refused` (NOT_CSV) for NUL bytes outside UTF-16 or undecodable bytes."""
    for bom, encoding in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16-le"),
                          (codecs.BOM_UTF16_BE, "utf-16-be")):
        if data.startswith(bom):
            return _strict(data[len(bom):], encoding), encoding
    if b"\x00" in data:
        utf16 = _utf16_without_bom(data)
        if utf16 is None:
            raise Refused("NOT_CSV", "The file is not a CSV file: it holds binary data.")
        return _strict(data, utf16), utf16
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    if any(0x80 <= byte <= 0x9F for byte in data):
        try:
            return data.decode("cp1252"), "cp1252"
        except UnicodeDecodeError:
            pass
    return data.decode("latin-1"), "latin-1"


def sniff_delimiter(text: str) -> str:
    """The delimiter among comma, semicolon, tab and pipe that splits the file's first records most
    consistently: the most records with as many cells as the header (two or more), then the most columns,
    then the order above. A file whose header none of them splits has one column: the first of them that the
    text does not hold, so a cell may contain the others."""
    best: tuple[int, int, int] = (0, 0, 0)
    chosen = next((delimiter for delimiter in DELIMITERS if delimiter not in text), ",")
    for rank, delimiter in enumerate(DELIMITERS):
        if delimiter not in text:
            continue
        counts: list[int] = []
        try:
            for _line, cells, _problem in _records(text, delimiter):
                counts.append(len(cells))
                if len(counts) == _SNIFF_RECORDS:
                    break
        except csv.Error:
            continue
        if not counts or counts[0] < 2:
            continue
        score = (sum(1 for count in counts if count == counts[0]), counts[0], -rank)
        if score > best:
            best, chosen = score, delimiter
    return chosen


def delimiter_name(delimiter: str) -> str:
    """The word for a delimiter (``comma``, ``semicolon``, ``tab``, ``pipe``)."""
    return _DELIMITER_NAMES.get(delimiter, delimiter)


def _strict(data: bytes, encoding: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise Refused("NOT_CSV", f"The file is not a CSV file: it is not valid {encoding.upper()} text.") from exc


def _utf16_without_bom(data: bytes) -> str | None:
    """``utf-16-le``/``utf-16-be`` when the NUL bytes sit on one side of nearly every pair of the file's start
    (text in Latin script), else None."""
    sample = data[:4096]
    if len(data) % 2 or len(sample) < 4:
        return None
    pairs = len(sample) // 2
    odd_nuls = sum(1 for i in range(1, len(sample), 2) if sample[i] == 0)
    even_nuls = sum(1 for i in range(0, len(sample), 2) if sample[i] == 0)
    if odd_nuls >= 0.7 * pairs and even_nuls == 0:
        return "utf-16-le"
    if even_nuls >= 0.7 * pairs and odd_nuls == 0:
        return "utf-16-be"
    return None


def _refuse_binary(text: str) -> None:
    sample = text[:65_536]
    controls = sum(1 for _ in _CONTROLS.finditer(sample))
    if controls > _MAX_CONTROL_SHARE * len(sample) or "\x00" in text:
        raise Refused("NOT_CSV", "The file is not a CSV file: it holds binary data.")


def _records(text: str, delimiter: str) -> Iterator[tuple[int, list[str], str | None]]:
    """(line where the record starts, raw cells, problem) for each record that is not blank.

    A quote that is never closed would make the rest of the file one cell: that record is cut to its first line
    with a problem, and the lines after it are read again as records of their own (`_MAX_REPAIRS` times)."""
    first_line, repairs = 1, 0
    while True:
        lines = _Lines(text)
        reader = csv.reader(lines, delimiter=delimiter, strict=False)
        end = first_line - 1
        held: tuple[int, list[str], list[str]] | None = None  # the last record, until it is known to be the last
        for cells in reader:
            start, end = end + 1, first_line - 1 + reader.line_num
            raw = lines.take()
            if held is not None:
                yield held[0], held[1], None
            held = (start, cells, raw) if any(cell.strip() for cell in cells) else None
        if held is None:
            return
        start, cells, raw = held
        if len(raw) < 2 or not _unclosed_quote("".join(raw), delimiter):
            yield start, cells, None
            return
        if repairs == _MAX_REPAIRS:
            yield start, cells, "has a quote (\") that is never closed: the rest of the file was read into it"
            return
        first = next(csv.reader([raw[0]], delimiter=delimiter, strict=False), [])
        yield start, first, "has a quote (\") that is never closed (the lines after it are read on their own)"
        text, first_line, repairs = "".join(raw[1:]), start + 1, repairs + 1


class _Lines:
    """A text's lines as csv reads them (``\r``, ``\n`` or ``\r\n`` ends one), keeping those read since the last
    `take`."""

    def __init__(self, text: str) -> None:
        self._lines = iter(io.StringIO(text, newline=""))
        self._read: list[str] = []

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        line = next(self._lines)
        self._read.append(line)
        return line

    def take(self) -> list[str]:
        read, self._read = self._read, []
        return read


def _unclosed_quote(record: str, delimiter: str) -> bool:
    try:
        for _ in csv.reader(io.StringIO(record, newline=""), delimiter=delimiter, strict=True):
            pass
    except csv.Error as exc:
        return "unexpected end of data" in str(exc)
    return False


def _headers(cells: list[str]) -> list[str]:
    """Stripped header names, a blank one named after its position, repeats made unique (``email (2)``)."""
    headers: list[str] = []
    seen: set[str] = set()
    for position, cell in enumerate(cells, start=1):
        name = " ".join(cell.replace("\ufeff", "").split())
        if len(name) > MAX_HEADER_CHARS:
            raise Refused(
                "NOT_CSV",
                f"The file is not a CSV file with a header row: its first line has a cell of {len(name):,} "
                f"characters (a column name has at most {MAX_HEADER_CHARS}).",
            )
        base = name or f"column {position}"
        unique, copy = base, 1
        while unique.casefold() in seen:
            copy += 1
            unique = f"{base} ({copy})"
        seen.add(unique.casefold())
        headers.append(unique)
    while len(headers) > 1 and headers[-1].startswith("column ") and not cells[len(headers) - 1].strip():
        headers.pop()  # the empty trailing columns some spreadsheets export
    return headers


def _row(line: int, raw: list[str], headers: list[str], problem: str | None) -> Row:
    cells = [cell.strip() for cell in raw]
    width = len(headers)
    if len(cells) > width:
        if any(cells[width:]):
            problem = problem or f"has {len(cells)} cells where the header has {width}"
        cells = cells[:width]
    elif len(cells) < width:
        cells += [""] * (width - len(cells))
    if max(map(len, cells), default=0) <= MAX_CELL_CHARS:  # nearly every row: nothing to look at cell by cell
        return Row(line=line, cells=cells, problem=problem)
    for position, cell in enumerate(cells):
        if len(cell) > MAX_CELL_CHARS:
            cells[position] = ""
            problem = problem or (
                f"the cell in column “{headers[position]}” has {len(cell):,} characters (at most {MAX_CELL_CHARS:,})"
            )
    return Row(line=line, cells=cells, problem=problem)
