"""Weather and farm events drawn day by day from the seed, so any moment can be evaluated in any order.

Each day's events come from their own generator, seeded with (seed, key…, day): a backfill, a real-time run
and a test that jumps to July all see the same storm on the same afternoon.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from simulators.climate import DAY_MS, LOCAL_OFFSET_MS

Int64s = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]

DrawDay = Callable[[np.random.Generator, int], list[tuple[int, int, float]]]
"""(generator, local day number) → events of that day as (start ms after local midnight, duration ms, amount)."""


@dataclass(frozen=True, slots=True)
class Events:
    """Rectangular events: `amount` spread evenly over [start, start + duration)."""

    start_ms: Int64s
    duration_ms: Int64s
    amount: Floats

    @property
    def end_ms(self) -> Int64s:
        return self.start_ms + self.duration_ms


class DailyEvents:
    """Events of one kind (storms over a commune, irrigation of a field), reproducible per day."""

    def __init__(self, draw: DrawDay, *, key: tuple[int, ...], lookback_days: int) -> None:
        self._draw = draw
        self._key = key
        self._lookback_days = lookback_days
        self._days: dict[int, list[tuple[int, int, float]]] = {}

    def _day(self, day: int) -> list[tuple[int, int, float]]:
        found = self._days.get(day)
        if found is None:
            found = self._draw(np.random.default_rng([*self._key, day]), day)
            if len(self._days) > 4096:  # a long real-time run: forget the oldest days
                self._days.clear()
            self._days[day] = found
        return found

    def around(self, ts_ms: Int64s) -> Events:
        """Every event that can still influence any of `ts_ms` (from `lookback_days` before the first)."""
        first = int((ts_ms.min() + LOCAL_OFFSET_MS) // DAY_MS) - self._lookback_days
        last = int((ts_ms.max() + LOCAL_OFFSET_MS) // DAY_MS)
        rows = [
            (day * DAY_MS - LOCAL_OFFSET_MS + start, duration, amount)
            for day in range(first, last + 1)
            for start, duration, amount in self._day(day)
        ]
        if not rows:
            return Events(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0))
        starts, durations, amounts = zip(*rows, strict=True)
        return Events(np.array(starts, np.int64), np.array(durations, np.int64), np.array(amounts, np.float64))

    def total_between(self, start_ms: Int64s, end_ms: Int64s) -> Floats:
        """Amount that fell in each interval [start, end) (e.g. mm of rain a tipping bucket counted)."""
        events = self.around(np.concatenate((start_ms, end_ms)))
        overlap = np.minimum(end_ms[:, None], events.end_ms[None, :]) - np.maximum(
            start_ms[:, None], events.start_ms[None, :]
        )
        share = np.clip(overlap, 0, None) / events.duration_ms[None, :]
        total: Floats = (share * events.amount[None, :]).sum(axis=1)
        return total

    def active(self, ts_ms: Int64s) -> npt.NDArray[np.bool_]:
        """Whether an event is going on at each time."""
        events = self.around(ts_ms)
        inside = (ts_ms[:, None] >= events.start_ms[None, :]) & (ts_ms[:, None] < events.end_ms[None, :])
        active: npt.NDArray[np.bool_] = np.asarray(inside.any(axis=1), dtype=np.bool_)
        return active

    def decaying(self, ts_ms: Int64s, *, tau_ms: float) -> Floats:
        """Σ amount × (share fallen so far) × exp(−time since the end / tau): wetness, soil water, washout."""
        events = self.around(ts_ms)
        since_start = ts_ms[:, None] - events.start_ms[None, :]
        fallen = np.clip(since_start / events.duration_ms[None, :], 0.0, 1.0)
        since_end = np.clip(ts_ms[:, None] - events.end_ms[None, :], 0, None)
        remaining: Floats = (events.amount[None, :] * fallen * np.exp(-since_end / tau_ms)).sum(axis=1)
        return remaining

    def delayed(self, ts_ms: Int64s, *, peak_ms: float) -> Floats:
        """Σ amount × g(t − centre), g(τ) = (τ/T)·e^(1 − τ/T), peaking (at 1 × amount) T after the event.

        A catchment answers rain with a delayed, smeared rise: water level, turbidity.
        """
        events = self.around(ts_ms)
        centre = events.start_ms + events.duration_ms // 2
        tau = np.clip(ts_ms[:, None] - centre[None, :], 0, None) / peak_ms
        response: Floats = (events.amount[None, :] * tau * np.exp(1.0 - tau)).sum(axis=1)
        return response


_DAILY_CACHE: dict[tuple[int, ...], float] = {}


def _daily_value(key: tuple[int, ...]) -> float:
    found = _DAILY_CACHE.get(key)
    if found is None:
        if len(_DAILY_CACHE) > 65_536:
            _DAILY_CACHE.clear()
        found = _DAILY_CACHE[key] = float(np.random.default_rng(key).standard_normal())
    return found


def daily_values(ts_ms: Int64s, *, key: tuple[int, ...], sd: float) -> Floats:
    """A smooth day-to-day anomaly: one N(0, sd) value per local day, interpolated between day centres."""
    local = ts_ms + LOCAL_OFFSET_MS
    position = local / DAY_MS - 0.5
    first = int(np.floor(position.min()))
    last = int(np.floor(position.max())) + 1
    days = np.arange(first, last + 1)
    values = sd * np.array([_daily_value((*key, int(day))) for day in days])
    return np.interp(position, days.astype(np.float64), values)
