"""Which data a series is read from: raw points, or a downsampled tier (`hourly`, `daily`) plus a raw tail.

The continuous queries fill a tier only with recent data (they recompute the last 6 h / 3 d), so history that
was uploaded late or loaded after the fact is in the raw data but not in the tiers. Before reading a tier we ask
InfluxDB, per series, for the first and last tier bucket and the first raw point in the range:

- no tier data, or raw data older than the tier's first bucket → the tier is incomplete: read raw;
- otherwise read the tier up to its last bucket (the "seam") and raw data after it, and merge the buckets
  that straddle the seam exactly (sums and counts add, minima and maxima combine).

Gaps in the middle of a tier (an ingestor outage longer than the recompute window, filled later) cannot be seen
this way: `tier=raw` reads raw data, and `downsample_statements` rebuilds a tier for a range.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal
from zoneinfo import ZoneInfo

from api.timeparams import DAY_MS, HOUR_MS
from devices.schema import DATA_MEASUREMENTS, DOWNSAMPLED_AGGREGATES, RAW_RETENTION_POLICY, TIERS, quote_identifier

Agg = Literal["mean", "min", "max", "count", "sum", "median", "p95", "last"]
TierChoice = Literal["auto", "raw", "hourly", "daily"]
TIER_AGGS: frozenset[str] = frozenset({"mean", "min", "max", "count", "sum"})
"""What a tier's mean/min/max/count fields can answer exactly; median, p95 and last need raw points."""

TIER_MS: dict[str, int] = {"hourly": HOUR_MS, "daily": DAY_MS}
MIN_RANGE_MS: dict[str, int] = {"hourly": 8 * DAY_MS, "daily": 93 * DAY_MS}
"""Below these ranges raw data is small enough (a device-week of 1-minute data is 10,080 points, which InfluxDB
aggregates in milliseconds) that the extra round trip to check a tier's coverage costs more than it saves."""


@dataclass(frozen=True, slots=True)
class Source:
    """A part of the range and where it was read from."""

    tier: str
    start_ms: int
    stop_ms: int


def aligned(zone: ZoneInfo, tier_ms: int, *instants_ms: int) -> bool:
    """Whether bucket boundaries in `zone` fall on the tier's UTC buckets at these instants."""
    for ms in instants_ms:
        offset = datetime.fromtimestamp(ms / 1000, tz=UTC).astimezone(zone).utcoffset()
        if offset is None or (offset.total_seconds() * 1000) % tier_ms:
            return False
    return True


def eligible(tier: str, *, agg: Agg, every_ms: int, zone: ZoneInfo, start_ms: int, stop_ms: int) -> str | None:
    """None when `tier` can answer exactly, else why not (a sentence for the client)."""
    tier_ms = TIER_MS[tier]
    if agg not in TIER_AGGS:
        return f"agg={agg} needs raw points (tiers keep mean, min, max and count)"
    if every_ms % tier_ms:
        return f"every must be a multiple of {tier_ms // HOUR_MS} h to read the {tier} tier"
    if not aligned(zone, tier_ms, start_ms, stop_ms):
        return f"{zone.key} buckets do not line up with the {tier} tier's UTC buckets"
    return None


def auto_tier(*, agg: Agg, every_ms: int, zone: ZoneInfo, start_ms: int, stop_ms: int) -> str | None:
    """The coarsest tier worth reading for this request, or None for raw."""
    for tier in ("daily", "hourly"):
        if stop_ms - start_ms < MIN_RANGE_MS[tier]:
            continue
        if eligible(tier, agg=agg, every_ms=every_ms, zone=zone, start_ms=start_ms, stop_ms=stop_ms) is None:
            return tier
    return None


def tier_field(aggregate: str, quantity: str) -> str:
    """The field a continuous query wrote, e.g. `mean_pm25`."""
    if aggregate not in DOWNSAMPLED_AGGREGATES:
        raise ValueError(aggregate)
    return f"{aggregate}_{quantity}"


def tier_from(tier: str, measurement: str) -> str:
    """`"hourly"."air"`: a measurement of a tier (both from the schema, never from the user)."""
    return f"{quote_identifier(tier)}.{quote_identifier(measurement)}"


def downsample_statements(database: str, tier: str, start_ms: int, stop_ms: int) -> list[str]:
    """`SELECT ... INTO` that (re)builds `tier` for [start, stop) from raw data, as its continuous query would.

    For history loaded after the fact. `start_ms`/`stop_ms` must be whole buckets (UTC) of the tier.
    """
    tier_ms = TIER_MS[tier]
    if start_ms % tier_ms or stop_ms % tier_ms:
        raise ValueError("downsampling ranges must start and end on the tier's buckets")
    every = next(t.every for t in TIERS if t.retention_policy == tier)
    db = quote_identifier(database)
    selects = ", ".join(f"{agg}(*)" for agg in DOWNSAMPLED_AGGREGATES)
    start, stop = (
        datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat().replace("+00:00", "Z") for ms in (start_ms, stop_ms)
    )
    return [
        f"SELECT {selects} INTO {db}.{quote_identifier(tier)}.{quote_identifier(m.name)} "
        f"FROM {db}.{quote_identifier(RAW_RETENTION_POLICY)}.{quote_identifier(m.name)} "
        f"WHERE time >= '{start}' AND time < '{stop}' GROUP BY time({every}), *"
        for m in DATA_MEASUREMENTS
    ]
