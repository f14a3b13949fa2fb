"""Expectations computed independently from the ground truth with NumPy: what each endpoint should answer."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import numpy as np

VN = ZoneInfo("Asia/Ho_Chi_Minh")


def nearest_rank(values: np.ndarray, percent: float) -> float:
    """InfluxQL's percentile(): the sorted value at rank floor(n·p/100 + 0.5) (1-based)."""
    ordered = np.sort(values)
    return float(ordered[max(math.floor(len(ordered) * percent / 100 + 0.5) - 1, 0)])


STATISTICS: dict[str, Callable[[np.ndarray, np.ndarray], float]] = {
    "mean": lambda _t, v: float(np.mean(v)),
    "min": lambda _t, v: float(np.min(v)),
    "max": lambda _t, v: float(np.max(v)),
    "sum": lambda _t, v: float(np.sum(v)),
    "count": lambda _t, v: float(len(v)),
    "median": lambda _t, v: float(np.median(v)),
    "p95": lambda _t, v: nearest_rank(v, 95),
    "last": lambda t, v: float(v[np.argmax(t)]),
}


def bucket_starts(ts_ms: np.ndarray, every_ms: int, zone: ZoneInfo = VN) -> np.ndarray:
    """Start of the bucket of each time, buckets aligned to `every` in `zone` (its offset at the first time)."""
    first = datetime.fromtimestamp(int(ts_ms.min()) / 1000, tz=UTC) if len(ts_ms) else datetime.now(tz=UTC)
    offset_ms = int(first.astimezone(zone).utcoffset().total_seconds() * 1000)
    return (ts_ms + offset_ms) // every_ms * every_ms - offset_ms


def buckets(
    ts_ms: np.ndarray, values: np.ndarray, *, start_ms: int, stop_ms: int, every_ms: int, agg: str
) -> dict[int, float]:
    """The statistic of every non-empty bucket of the points in [start, stop)."""
    inside = (ts_ms >= start_ms) & (ts_ms < stop_ms)
    ts_ms, values = ts_ms[inside], values[inside]
    starts = bucket_starts(ts_ms, every_ms)
    return {int(b): STATISTICS[agg](ts_ms[starts == b], values[starts == b]) for b in np.unique(starts)}
