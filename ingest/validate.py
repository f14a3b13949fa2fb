"""Vectorized checks over a whole batch. Each returns a boolean mask; only the pipeline decides what to do."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from devices.quantities import (
    HARD_MAX,
    HARD_MIN,
    QUANTITY_INDEX,
    SOFT_MAX,
    SOFT_MIN,
    SPIKE_DELTA,
    SPIKE_WINDOW_MS,
    STUCK_AFTER,
)

Mask = npt.NDArray[np.bool_]
Ints = npt.NDArray[np.integer]
Floats = npt.NDArray[np.float64]

_PM25 = QUANTITY_INDEX["pm25"]
_PM10 = QUANTITY_INDEX["pm10"]


def known(quantity: Ints) -> Mask:
    """Rows whose name is in the catalogue."""
    return quantity >= 0


def beyond_hard_limits(quantity: Ints, value: Floats) -> Mask:
    """Rows physically impossible for the sensor. `quantity` must be known for every row."""
    return (value < HARD_MIN[quantity]) | (value > HARD_MAX[quantity])


def beyond_soft_limits(quantity: Ints, value: Floats) -> Mask:
    """Rows plausible but suspicious: stored and flagged."""
    return (value < SOFT_MIN[quantity]) | (value > SOFT_MAX[quantity])


def repeated(series: Ints, ts_ms: Ints, quantity: Ints, value: Floats) -> tuple[Mask, Mask]:
    """Rows that repeat an earlier row's point identity (series, time, quantity) in the batch.

    Returns:
        (same, conflicting): repeats with the first row's value (harmless: the point is written once) and
        repeats with another value (which would silently overwrite it in InfluxDB).
    """
    same = np.zeros(len(value), dtype=np.bool_)
    conflicting = np.zeros(len(value), dtype=np.bool_)
    if len(value) < 2:
        return same, conflicting
    order = np.lexsort((np.arange(len(value)), quantity, ts_ms, series))
    s, t, q, v = series[order], ts_ms[order], quantity[order], value[order]
    repeat = (s[1:] == s[:-1]) & (t[1:] == t[:-1]) & (q[1:] == q[:-1])
    if not repeat.any():
        return same, conflicting
    # Compare each repeat with the first row of its run, not just its neighbour.
    run_start = np.maximum.accumulate(np.where(np.concatenate(([True], ~repeat)), np.arange(len(v)), 0))
    differs = v != v[run_start]
    is_repeat = np.concatenate(([False], repeat))
    same[order[is_repeat & ~differs]] = True
    conflicting[order[is_repeat & differs]] = True
    return same, conflicting


def pm25_above_pm10(sample: Ints, quantity: Ints, value: Floats) -> Mask:
    """Rows of PM2.5 and PM10 in a sample whose PM2.5 exceeds its PM10 (PM2.5 is a subset of PM10).

    `sample` must be non-decreasing (columns are built in sample order).
    """
    flagged = np.zeros(len(value), dtype=np.bool_)
    pm25 = np.flatnonzero(quantity == _PM25)
    pm10 = np.flatnonzero(quantity == _PM10)
    if not len(pm25) or not len(pm10):
        return flagged
    partner = np.searchsorted(sample[pm10], sample[pm25])
    partner = np.minimum(partner, len(pm10) - 1)
    paired = sample[pm10][partner] == sample[pm25]
    exceeds = paired & (value[pm25] > value[pm10][partner])
    flagged[pm25[exceeds]] = True
    flagged[pm10[partner[exceeds]]] = True
    return flagged


def jumps(quantity: Ints, ts_ms: Ints, value: Floats, prev_ts_ms: Ints, prev_value: Floats) -> Mask:
    """Rows that differ from the previous reading of their sensor by more than its spike threshold.

    `prev_value` is NaN where there is no previous reading; readings further apart than SPIKE_WINDOW_MS are
    not compared (after a long silence any change is plausible).
    """
    close = (ts_ms - prev_ts_ms) <= SPIKE_WINDOW_MS
    with np.errstate(invalid="ignore"):
        return close & (np.abs(value - prev_value) > SPIKE_DELTA[quantity])


def run_lengths(starts: Mask, same: Mask, carried: Ints) -> Ints:
    """Length of the run of identical values each row ends, rows grouped by sensor in time order.

    Args:
        starts: the first row of each sensor's group.
        same: the row repeats the previous value of its sensor (for a first row: the value before the batch).
        carried: for first rows, the length of the run that ended just before the batch.
    """
    rows = np.arange(len(same))
    restart = starts | ~same
    base = np.where(starts & same, carried + 1, 1)
    last_restart = np.maximum.accumulate(np.where(restart, rows, 0))
    return base[last_restart] + (rows - last_restart)


def stuck(quantity: Ints, run_length: Ints) -> Mask:
    """Rows that repeat exactly the same value for at least their quantity's stuck run."""
    return run_length >= STUCK_AFTER[quantity]
