"""Time-bucketed series: one InfluxQL statement on raw data, or a tier stitched to a raw tail (see api.tiers)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from api.auth import Principal
from api.conditions import Conditions, device_filter
from api.errors import InvalidRequest
from api.fill import INFLUXQL_FILL, Fill, apply_fill
from api.influx import InfluxReader
from api.tiers import TIER_MS, Agg, Source, TierChoice, auto_tier, eligible, tier_field, tier_from
from api.timeparams import format_duration
from devices.influxql import ParamValue, Series
from devices.quantities import Quantity
from devices.schema import TAG_DEVICE, TAG_VILLAGE, quote_identifier

RAW = "raw"
_GROUP_TAGS = (TAG_DEVICE, TAG_VILLAGE)
_PARTIALS: dict[str, tuple[str, ...]] = {
    "mean": ("sum", "count"),
    "sum": ("sum",),
    "count": ("count",),
    "min": ("min",),
    "max": ("max",),
}


@dataclass(frozen=True, slots=True)
class SeriesQuery:
    """What the client asked for, validated: everything here is safe to put into InfluxQL as is or bound."""

    quantity: Quantity
    agg: Agg
    every_ms: int
    start_ms: int
    stop_ms: int
    zone: ZoneInfo
    fill: Fill
    caller: Principal
    device: str | None = None
    village: str | None = None
    by_device: bool = False

    @property
    def grouped(self) -> bool:
        """One series per device (and village tag) rather than one aggregate over the village."""
        return self.by_device or self.device is not None

    def conditions(self, start_ms: int, stop_ms: int) -> Conditions:
        return device_filter(self.caller, village=self.village, device=self.device).between(start_ms, stop_ms)

    def group_by(self, *, time: bool = True) -> str:
        parts = ["time($every)"] if time else []
        if self.grouped:
            parts += [quote_identifier(t) for t in _GROUP_TAGS]
        return " GROUP BY " + ", ".join(parts) if parts else ""

    def params(self, conditions: Conditions) -> dict[str, ParamValue]:
        return {**conditions.params, "every": {"duration": format_duration(self.every_ms)}, "tz": self.zone.key}


@dataclass
class SeriesResult:
    """The series (tags → points) and where each part of the range was read from."""

    series: Sequence[tuple[Mapping[str, str], Sequence[Sequence[object]]]]
    sources: list[Source]
    note: str | None = None
    tier: str = RAW
    statements: list[str] = field(default_factory=list)


def raw_expression(quantity: str, agg: Agg) -> str:
    """The InfluxQL aggregate of a raw field (quantity names come from the catalogue)."""
    name = quote_identifier(quantity)
    return f"percentile({name}, 95)" if agg == "p95" else f"{agg}({name})"


def raw_statement(
    q: SeriesQuery, conditions: Conditions, *, expression: str | None = None, fill: str | None = None
) -> str:
    """The statement the raw path sends (and the benchmark sends to InfluxDB directly)."""
    select = expression or f'{raw_expression(q.quantity.name, q.agg)} AS "value"'
    return (
        f"SELECT {select} FROM {quote_identifier(q.quantity.domain.value)}{conditions.where()}"
        f"{q.group_by()} fill({fill or INFLUXQL_FILL[q.fill]}) tz($tz)"
    )


async def read_series(reader: InfluxReader, q: SeriesQuery, choice: TierChoice) -> SeriesResult:
    """Read the series, from a tier when it can answer exactly and holds the range, else from raw data.

    Raises:
        InvalidRequest: a tier was forced that cannot answer this aggregate, bucket size or time zone.
    """
    tier, note = _plan(q, choice)
    if tier is not None:
        parts, note = await _tier_parts(reader, q, tier)
        if parts:
            return await _stitched(reader, q, parts)
    conditions = q.conditions(q.start_ms, q.stop_ms)
    statement = raw_statement(q, conditions)
    series = await reader.query_rows(statement, q.params(conditions))
    return SeriesResult(series, [Source(RAW, q.start_ms, q.stop_ms)], note=note, statements=[statement])


def _plan(q: SeriesQuery, choice: TierChoice) -> tuple[str | None, str | None]:
    if choice == "raw":
        return None, None
    if choice == "auto":
        return auto_tier(agg=q.agg, every_ms=q.every_ms, zone=q.zone, start_ms=q.start_ms, stop_ms=q.stop_ms), None
    why_not = eligible(choice, agg=q.agg, every_ms=q.every_ms, zone=q.zone, start_ms=q.start_ms, stop_ms=q.stop_ms)
    if why_not:
        raise InvalidRequest("tier_not_applicable", f"tier={choice} cannot answer this request: {why_not}")
    return choice, None


def _key(series: Series) -> tuple[str, ...]:
    return tuple(series.tags.get(t, "") for t in _GROUP_TAGS)


async def _tier_parts(reader: InfluxReader, q: SeriesQuery, tier: str) -> tuple[list[Source], str | None]:
    """Raw head, tier middle, raw tail, or no parts (with the reason) when the tier cannot serve the range.

    A tier point stands for its whole bucket, so the tier is read only for whole tier buckets inside the range:
    partial buckets at either end, and everything after the tier's last bucket, are read raw.
    """
    tier_ms = TIER_MS[tier]
    inner_start = -(-q.start_ms // tier_ms) * tier_ms
    inner_stop = q.stop_ms - q.stop_ms % tier_ms
    if inner_stop <= inner_start:
        return [], None
    name, measurement = q.quantity.name, q.quantity.domain.value
    conditions = q.conditions(inner_start, q.stop_ms)
    count, group = quote_identifier(tier_field("count", name)), q.group_by(time=False)
    statements = [
        f"SELECT first({count}) FROM {tier_from(tier, measurement)}{conditions.where()}{group}",
        f"SELECT last({count}) FROM {tier_from(tier, measurement)}{conditions.where()}{group}",
        f"SELECT first({quote_identifier(name)}) FROM {quote_identifier(measurement)}{conditions.where()}{group}",
    ]
    results = await reader.query_optional(";".join(statements), conditions.params)
    if results is None:
        return [], f"this database has no {tier} tier (its retention policy is missing); read from raw data"
    if len(results) < 3 or not results[2]:
        return [], None  # no raw data in the range: the raw read answers quickly and empty
    first_tier = {_key(s): s.values[0][0] for s in results[0]}
    last_tier = {_key(s): s.values[0][0] for s in results[1]}
    if not first_tier:
        return [], f"the {tier} tier holds no data for this range; read from raw data"
    for series in results[2]:
        raw_ms = series.values[0][0]
        if _key(series) not in first_tier or raw_ms - raw_ms % tier_ms < first_tier[_key(series)]:
            return [], (
                f"the {tier} tier lacks the start of this range (history loaded after the fact is not downsampled "
                "by the continuous queries); read from raw data"
            )
    seam = min(min(last_tier.values()) + tier_ms, inner_stop)
    bounds = [(RAW, q.start_ms, inner_start), (tier, inner_start, seam), (RAW, seam, q.stop_ms)]
    return [Source(t, a, b) for t, a, b in bounds if b > a], None


async def _stitched(reader: InfluxReader, q: SeriesQuery, parts: list[Source]) -> SeriesResult:
    """Partial aggregates of each part (tier or raw), merged per bucket."""
    partials = _PARTIALS[q.agg]
    raw_select = ", ".join(f'{p}({quote_identifier(q.quantity.name)}) AS "{p}"' for p in partials)
    statements: list[str] = []
    results: list[list[Series]] = []
    for part in parts:
        conditions = q.conditions(part.start_ms, part.stop_ms)
        if part.tier == RAW:
            statements.append(raw_statement(q, conditions, expression=raw_select, fill="null"))
        else:
            statements.append(_tier_statement(q, part.tier, conditions, partials))
        results.append((await reader.query(statements[-1], q.params(conditions)) or [[]])[0])
    merged = _merge(results, q.agg, partials)
    series = [
        (dict(zip(_GROUP_TAGS, key, strict=True)) if q.grouped else {}, _finish(*_whole_range(times, values, q), q))
        for key, (times, values) in merged.items()
    ]
    tier = next(p.tier for p in parts if p.tier != RAW)
    return SeriesResult(series, parts, tier=tier, statements=statements)


def _whole_range(times: npt.NDArray[np.int64], values: Floats, q: SeriesQuery) -> tuple[npt.NDArray[np.int64], Floats]:
    """The empty buckets at either end that one query over the whole range would have given (fill applies to them).

    InfluxDB answers a part of the range that holds no point at all with no series, not with empty buckets: a raw
    head of 40 minutes before the first data would lose the bucket that contains the start of the range.
    """
    if not len(times):
        return times, values
    first, last, every = int(times[0]), int(times[-1]), q.every_ms
    head = np.arange(first - every, q.start_ms - every, -every, dtype=np.int64)[::-1]
    tail = np.arange(last + every, q.stop_ms, every, dtype=np.int64)
    gaps = np.full(len(head), np.nan), np.full(len(tail), np.nan)
    return np.concatenate([head, times, tail]), np.concatenate([gaps[0], values, gaps[1]])


def _tier_statement(q: SeriesQuery, tier: str, conditions: Conditions, partials: tuple[str, ...]) -> str:
    name = q.quantity.name
    inner = (
        f"SELECT {quote_identifier(tier_field('mean', name))} * {quote_identifier(tier_field('count', name))} AS s, "
        f"{quote_identifier(tier_field('count', name))} AS c, {quote_identifier(tier_field('min', name))} AS lo, "
        f"{quote_identifier(tier_field('max', name))} AS hi "
        f"FROM {tier_from(tier, q.quantity.domain.value)}{conditions.where()}{q.group_by(time=False)}"
    )
    outer = {
        "sum": 'sum("s") AS "sum"',
        "count": 'sum("c") AS "count"',
        "min": 'min("lo") AS "min"',
        "max": 'max("hi") AS "max"',
    }
    select = ", ".join(outer[p] for p in partials)
    return f"SELECT {select} FROM ({inner}){conditions.where()}{q.group_by()} fill(null) tz($tz)"


Floats = npt.NDArray[np.float64]


def _merge(
    parts: list[list[Series]], agg: Agg, partials: tuple[str, ...]
) -> dict[tuple[str, ...], tuple[npt.NDArray[np.int64], Floats]]:
    """Per series, the final value of every bucket from the partial aggregates of each part."""
    rows: dict[tuple[str, ...], list[Sequence[object]]] = {}
    for part in parts:
        for series in part:
            rows.setdefault(_key(series), []).extend(series.values)
    merged = {}
    for key, values in rows.items():
        table = np.array([[np.nan if v is None else v for v in row] for row in values], dtype=np.float64)
        times, inverse = np.unique(table[:, 0].astype(np.int64), return_inverse=True)
        columns = {p: table[:, i + 1] for i, p in enumerate(partials)}
        merged[key] = (times, _combine(agg, columns, inverse, len(times)))
    return dict(sorted(merged.items()))


def _combine(agg: Agg, columns: dict[str, Floats], inverse: npt.NDArray[np.intp], n: int) -> Floats:
    def total(column: Floats) -> tuple[Floats, Floats]:
        present = np.bincount(inverse, weights=(~np.isnan(column)).astype(np.float64), minlength=n).astype(np.float64)
        return np.bincount(inverse, weights=np.nan_to_num(column), minlength=n).astype(np.float64), present

    if agg in ("min", "max"):
        column = columns[agg]
        extreme = np.full(n, np.inf if agg == "min" else -np.inf)
        (np.minimum if agg == "min" else np.maximum).at(
            extreme, inverse, np.where(np.isnan(column), extreme[inverse], column)
        )
        return np.where(np.isinf(extreme), np.nan, extreme)
    if agg == "count":
        counts, _ = total(columns["count"])
        return np.where(counts > 0, counts, np.nan)
    sums, present = total(columns["sum"])
    if agg == "sum":
        return np.where(present > 0, sums, np.nan)
    counts, _ = total(columns["count"])
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, sums / counts, np.nan)


def _finish(times: npt.NDArray[np.int64], values: Floats, q: SeriesQuery) -> list[tuple[int, float | None]]:
    fill: Fill = "zero" if q.agg == "count" and q.fill == "null" else q.fill  # InfluxQL counts empty buckets as 0
    return apply_fill(times, values, fill)
