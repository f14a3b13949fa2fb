"""Empty buckets, filled as the client asked: InfluxQL's fill() semantics, applied with NumPy.

Used where InfluxDB cannot fill for us: when a series is stitched together from a tier and raw data.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import numpy.typing as npt

Fill = Literal["null", "none", "previous", "linear", "zero"]
INFLUXQL_FILL: dict[Fill, str] = {
    "null": "null",
    "none": "none",
    "previous": "previous",
    "linear": "linear",
    "zero": "0",
}

Points = list[tuple[int, float | None]]


def apply_fill(times: npt.NDArray[np.int64], values: npt.NDArray[np.float64], fill: Fill) -> Points:
    """Points with NaN (empty buckets) treated per `fill`, like InfluxQL's fill() would.

    `previous` carries the last value forward (leading gaps stay empty); `linear` interpolates between known
    values (gaps at either end stay empty); `none` drops empty buckets; `zero` writes 0.
    """
    missing = np.isnan(values)
    if fill == "zero":
        values = np.where(missing, 0.0, values)
    elif fill == "previous" and missing.any():
        index = np.where(missing, 0, np.arange(len(values)))
        np.maximum.accumulate(index, out=index)
        values = values[index]  # leading gaps point at index 0, itself empty: they stay empty
    elif fill == "linear" and missing.any() and (~missing).sum() >= 2:
        known = np.flatnonzero(~missing)
        inside = (np.arange(len(values)) > known[0]) & (np.arange(len(values)) < known[-1])
        interpolated = np.interp(times.astype(np.float64), times[known].astype(np.float64), values[known])
        values = np.where(missing & inside, interpolated, values)
    keep = ~np.isnan(values) if fill == "none" else np.ones(len(values), dtype=np.bool_)
    return [(t, None if np.isnan(v) else v) for t, v in zip(times[keep].tolist(), values[keep].tolist(), strict=True)]
