"""CSV exports: streamed a batch at a time, with spreadsheet formulas neutralised.

A cell that starts with `=`, `+`, `-` or `@` (or a tab or carriage return) would run as a formula
when the file is opened in a spreadsheet, so text cells that do are prefixed with `'`. Numbers and
dates are written as they are.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Iterable, Sequence
from datetime import datetime
from typing import Any

from starlette.responses import StreamingResponse

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

Rows = AsyncIterator[Iterable[Sequence[Any]]]


def safe_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def _lines(rows: Iterable[Sequence[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    for row in rows:
        writer.writerow([safe_cell(v) for v in row])
    return out.getvalue()


async def _stream(header: Sequence[str], batches: Rows) -> AsyncIterator[str]:
    yield _lines([header])
    async for batch in batches:
        yield _lines(batch)


def csv_response(filename: str, header: Sequence[str], batches: Rows) -> StreamingResponse:
    """A download of `header` then every row of `batches` (an async iterator of lists of rows)."""
    return StreamingResponse(
        _stream(header, batches),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )
