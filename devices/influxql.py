"""InfluxQL requests and responses of the v1 `/query` API, without the HTTP: shared by every reader.

InfluxDB 1.x answers most query errors with HTTP 200 and an `"error"` inside `results[i]` (DESIGN.md §5),
so a response is only trusted after `parse_results` has looked inside it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from devices.errors import ContractError

ParamValue = str | int | float | Mapping[str, str]


class InfluxQueryError(ContractError):
    """InfluxDB refused a query (bad syntax, unknown database or policy)."""


@dataclass(frozen=True, slots=True)
class Series:
    """One series of a result: name, tags, column names and rows."""

    name: str
    columns: tuple[str, ...]
    values: tuple[tuple[Any, ...], ...]
    tags: Mapping[str, str] = field(default_factory=dict)

    def records(self) -> list[dict[str, Any]]:
        """Rows as dicts keyed by column name."""
        return [dict(zip(self.columns, row, strict=True)) for row in self.values]


def query_form(query: str, *, database: str, params: Mapping[str, ParamValue] | None = None) -> dict[str, str]:
    """The form body of `POST /query`: user values travel in `params`, never inside `query`."""
    form = {"q": query, "db": database, "epoch": "ms"}
    if params:
        form["params"] = orjson.dumps(dict(params)).decode()
    return form


def parse_results(body: bytes | Mapping[str, Any]) -> list[list[Series]]:
    """The series of every statement, in order.

    Raises:
        InfluxQueryError: the response or any of its statements carries an error.
    """
    data = orjson.loads(body) if isinstance(body, bytes | bytearray) else body
    if "error" in data:
        raise InfluxQueryError(str(data["error"]))
    results: list[list[Series]] = []
    for result in data.get("results", ()):
        if "error" in result:
            raise InfluxQueryError(str(result["error"]))
        results.append(
            [
                Series(
                    name=s.get("name", ""),
                    columns=tuple(s["columns"]),
                    values=tuple(tuple(row) for row in s.get("values", ())),
                    tags=s.get("tags") or {},
                )
                for s in result.get("series", ())
            ]
        )
    return results


def single_series(results: Sequence[Sequence[Series]]) -> Series | None:
    """The only series of a one-statement result, or None when it returned nothing."""
    return results[0][0] if results and results[0] else None
