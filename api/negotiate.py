"""Which representation the client wants: `?format=` wins, then the Accept header; JSON by default."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Sequence
from typing import Annotated, Literal

from fastapi import Query, Request
from fastapi.responses import StreamingResponse

from api.responses import cache_headers

Format = Literal["json", "csv"]
FormatQuery = Annotated[
    Format | None,
    Query(description="`csv` streams CSV (as does `Accept: text/csv`); default JSON", examples=["csv"]),
]
CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
_ROWS_PER_CHUNK = 2000


def wants_csv(request: Request, requested: Format | None) -> bool:
    """CSV when asked by `format=csv`, or by an Accept header that prefers text/csv to JSON."""
    if requested is not None:
        return requested == "csv"
    accept = request.headers.get("accept", "")
    return "text/csv" in accept and "application/json" not in accept


def csv_field(value: object) -> str:
    """One CSV field (RFC 4180): empty for None, quoted when it holds a comma, quote or line break."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = value if isinstance(value, str) else repr(value) if isinstance(value, float) else str(value)
    if any(c in text for c in ',"\r\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


async def _chunks(header: Sequence[str], rows: Iterable[Sequence[object]]) -> AsyncIterator[bytes]:
    lines = [",".join(header)]
    for row in rows:
        lines.append(",".join(csv_field(v) for v in row))
        if len(lines) >= _ROWS_PER_CHUNK:
            yield ("\r\n".join(lines) + "\r\n").encode()
            lines = []
    if lines:
        yield ("\r\n".join(lines) + "\r\n").encode()


def csv_response(
    request: Request, header: Sequence[str], rows: Iterable[Sequence[object]], *, filename: str, max_age_s: int
) -> StreamingResponse:
    """Stream rows as CSV in chunks, with a download file name and the read cache headers."""
    headers = {
        "Content-Disposition": f'attachment; filename="{filename}"',
        **cache_headers(request, max_age_s=max_age_s),
    }
    return StreamingResponse(_chunks(header, rows), media_type=CSV_MEDIA_TYPE, headers=headers)
