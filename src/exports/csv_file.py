"""Writing rows as a CSV file, a batch at a time: RFC 4180 (quoted cells, CRLF line ends), UTF-8 with a BOM.

The byte order mark is there for Excel, which reads a CSV without one in the machine's legacy code page
(and mangles every accent); other tools skip it (Python reads it with ``encoding="utf-8-sig"``).
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Iterable, Sequence
from typing import Any

from outboundql.exports.cells import cell

BOM = "\ufeff"
MEDIA_TYPE = "text/csv; charset=utf-8"


def encode(rows: Iterable[Sequence[Any]]) -> bytes:
    """``rows`` as CSV lines in UTF-8, every value through `cell`."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerows([cell(v) for v in row] for row in rows)
    return buffer.getvalue().encode("utf-8")


async def stream(header: Sequence[str], batches: AsyncIterator[list[list[Any]]]) -> AsyncIterator[bytes]:
    """The file as chunks: the BOM and the header row first, then one chunk per batch of rows."""
    yield BOM.encode("utf-8") + encode([header])
    async for batch in batches:
        if batch:
            yield encode(batch)
