"""Grafana's InfluxQL query model as an SDK dataquery, and the raw InfluxQL the panels send.

grafana-foundation-sdk 11.6 has builders for every panel but no InfluxDB dataquery, so this module adds one
variant compatible with its `Dataquery` interface: panels, alert rules and `from_json` all accept it. Queries are
raw InfluxQL built only from `devices/schema.py` names, always double-quoted, so tests can check every identifier.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal, Self

from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.cog import runtime as cogruntime
from grafana_foundation_sdk.cog import variants as cogvariants
from grafana_foundation_sdk.models.dashboard import DataSourceRef

from dashboards.datasources import INFLUX, INFLUX_TYPE
from devices.schema import MEASUREMENTS, TAG_DEVICE, TAG_VILLAGE, quote_identifier

ResultFormat = Literal["time_series", "table"]
VILLAGE_FILTER = f"{quote_identifier(TAG_VILLAGE)} =~ /^$village$/"
DEVICE_FILTER = f"{quote_identifier(TAG_DEVICE)} =~ /^$device$/"


class InfluxQLQuery(cogvariants.Dataquery):
    """One raw InfluxQL target (`rawQuery: true`), as Grafana's InfluxDB data source stores it."""

    def __init__(
        self,
        query: str = "",
        *,
        ref_id: str = "A",
        result_format: ResultFormat = "time_series",
        alias: str | None = None,
        datasource: DataSourceRef = INFLUX,
        interval_ms: int | None = None,
        max_data_points: int | None = None,
    ) -> None:
        self.query = query
        self.ref_id = ref_id
        self.result_format = result_format
        self.alias = alias
        self.datasource = datasource
        self.interval_ms = interval_ms
        self.max_data_points = max_data_points

    def to_json(self) -> dict[str, object]:
        """Grafana's JSON, keys as `InfluxQuery` in the InfluxDB plugin's types.ts names them."""
        payload: dict[str, object] = {
            "refId": self.ref_id,
            "datasource": self.datasource,
            "query": self.query,
            "rawQuery": True,
            "resultFormat": self.result_format,
        }
        if self.alias is not None:
            payload["alias"] = self.alias
        if self.interval_ms is not None:
            payload["intervalMs"] = self.interval_ms
        if self.max_data_points is not None:
            payload["maxDataPoints"] = self.max_data_points
        return payload

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Self:
        """Read back a target written by `to_json`."""
        source = data.get("datasource") or {}
        return cls(
            str(data.get("query", "")),
            ref_id=str(data.get("refId", "A")),
            result_format="table" if data.get("resultFormat") == "table" else "time_series",
            alias=data.get("alias"),
            datasource=DataSourceRef(type_val=source.get("type"), uid=source.get("uid")),
            interval_ms=data.get("intervalMs"),
            max_data_points=data.get("maxDataPoints"),
        )


cogruntime.Runtime().register_dataquery_variant(
    cogruntime.DataqueryConfig(identifier=INFLUX_TYPE, from_json_hook=InfluxQLQuery.from_json)
)


class InfluxQL(cogbuilder.Builder[InfluxQLQuery]):
    """Builder for `InfluxQLQuery`, in the SDK's fluent style."""

    def __init__(self, query: str) -> None:
        self._internal = InfluxQLQuery(query)

    def build(self) -> InfluxQLQuery:
        """The query model."""
        return self._internal

    def ref_id(self, ref_id: str) -> Self:
        """Name of the query within its panel or rule (A, B, ...)."""
        self._internal.ref_id = ref_id
        return self

    def table(self) -> Self:
        """Return rows (tags as columns) rather than one series per group."""
        self._internal.result_format = "table"
        return self

    def alias(self, alias: str) -> Self:
        """Legend name; `$tag_device` names a series after its board."""
        self._internal.alias = alias
        return self


def field_ref(measurement: str, field: str) -> str:
    """A quoted field of a schema measurement.

    Raises:
        KeyError: the measurement or field is not in `devices/schema.py`.
    """
    if field not in MEASUREMENTS[measurement].fields:
        raise KeyError(f"{measurement!r} has no field {field!r} in devices/schema.py")
    return quote_identifier(field)


def where(*conditions: str) -> str:
    """`WHERE a AND b AND $timeFilter`: every panel query is bounded by the dashboard's time range."""
    return "WHERE " + " AND ".join((*conditions, "$timeFilter"))


def aggregate_over_time(
    measurement: str,
    fields: Sequence[str],
    *,
    aggregate: str = "mean",
    filters: Sequence[str] = (VILLAGE_FILTER, DEVICE_FILTER),
    by: Sequence[str] = (TAG_DEVICE,),
    every: str = "$__interval",
    fill: str = "none",
    tz: str | None = None,
) -> str:
    """`SELECT agg("f") AS "f" ... GROUP BY time(every), tags fill(...)`: one series per tag set for a graph."""
    selects = ", ".join(f"{aggregate}({field_ref(measurement, f)}) AS {quote_identifier(f)}" for f in fields)
    groups = ", ".join((f"time({every})", *(quote_identifier(tag) for tag in by)))
    suffix = f" tz('{tz}')" if tz else ""
    return (
        f"SELECT {selects} FROM {quote_identifier(measurement)} {where(*filters)} "
        f"GROUP BY {groups} fill({fill}){suffix}"
    )


def aggregate_per_group(
    measurement: str,
    selects: Sequence[str],
    *,
    filters: Sequence[str] = (VILLAGE_FILTER,),
    by: Sequence[str] = (TAG_DEVICE,),
) -> str:
    """`SELECT <expressions> ... GROUP BY tags`: one row per tag set over the whole range, for stats and tables."""
    groups = ", ".join(quote_identifier(tag) for tag in by)
    group_by = f" GROUP BY {groups}" if groups else ""
    return f"SELECT {', '.join(selects)} FROM {quote_identifier(measurement)} {where(*filters)}{group_by}"
