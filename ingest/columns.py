"""Readings of a batch as columns: decoding appends to plain lists, every later stage runs once per batch in NumPy."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from devices.quantities import QUANTITY_INDEX

UNKNOWN_QUANTITY = -1
NO_POSITION = -1


class _QuantityIndex(dict[str, int]):
    """Catalogue index by name; unknown names map to UNKNOWN_QUANTITY without being stored."""

    def __missing__(self, key: str) -> int:
        return UNKNOWN_QUANTITY


_INDEX = _QuantityIndex(QUANTITY_INDEX)
_NUMBER_TYPES = frozenset({int, float})


class SeriesIds:
    """Dense integer ids for (village, device), stable for the life of the process; caches are indexed by them."""

    def __init__(self) -> None:
        self._ids: dict[tuple[str, str], int] = {}
        self.villages: list[str] = []
        self.devices: list[str] = []

    def id(self, village: str, device: str) -> int:
        """The id of a device's series, assigned on first sight."""
        key = (village, device)
        found = self._ids.get(key)
        if found is None:
            found = len(self.devices)
            self._ids[key] = found
            self.villages.append(village)
            self.devices.append(device)
        return found

    def __len__(self) -> int:
        return len(self.devices)


@dataclass
class BatchBuilder:
    """Accumulates samples (one device, one time) and their raw readings in arrival order.

    Per-sample facts that are rare (a flagged clock, a position in an array) are kept sparse.
    """

    message: list[int] = field(default_factory=list)
    series: list[int] = field(default_factory=list)
    ts_ms: list[int] = field(default_factory=list)
    counts: list[int] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)
    values: list[object] = field(default_factory=list)
    clock_flagged: list[int] = field(default_factory=list)
    """Samples whose time is a receive-time stand-in."""
    positions: dict[int, int] = field(default_factory=dict)
    """Sample → its index in a store-and-forward array or SenML pack."""
    raw: list[dict[str, object] | None] = field(default_factory=list)
    """The decoded `readings` object itself, when the sample is exactly that object (see encode)."""

    def add(
        self,
        *,
        message: int,
        series: int,
        ts_ms: int,
        clock_flagged: bool,
        readings: dict[str, object],
        position: int = NO_POSITION,
    ) -> None:
        """One sample; `readings` maps names as received to raw JSON values (validated later, per reading)."""
        if clock_flagged:
            self.clock_flagged.append(len(self.ts_ms))
        if position != NO_POSITION:
            self.positions[len(self.ts_ms)] = position
        self.message.append(message)
        self.series.append(series)
        self.ts_ms.append(ts_ms)
        self.counts.append(len(readings))
        self.keys.extend(readings)
        self.values.extend(readings.values())
        self.raw.append(None)

    def columns(self) -> ReadingColumns:
        """Everything accumulated, as arrays."""
        rows = len(self.keys)
        samples = len(self.counts)
        types = set(map(type, self.values))
        if types <= _NUMBER_TYPES:
            numeric = np.ones(rows, dtype=np.bool_)
        else:
            numeric = np.fromiter(map(_NUMBER_TYPES.__contains__, map(type, self.values)), dtype=np.bool_, count=rows)
        clock = np.zeros(samples, dtype=np.bool_)
        clock[self.clock_flagged] = True
        return ReadingColumns(
            sample=np.repeat(np.arange(samples, dtype=np.int32), self.counts),
            quantity=np.fromiter(map(_INDEX.__getitem__, self.keys), dtype=np.int16, count=rows),
            value=_floats(self.values, numeric),
            numeric=numeric,
            keys=self.keys,
            sample_message=np.array(self.message, dtype=np.int32),
            sample_series=np.array(self.series, dtype=np.int32),
            sample_ts=np.array(self.ts_ms, dtype=np.int64),
            sample_clock=clock,
            sample_position=self.positions,
            sample_counts=np.array(self.counts, dtype=np.int64),
            sample_raw=self.raw,
        )


def _floats(values: list[object], numeric: npt.NDArray[np.bool_]) -> npt.NDArray[np.float64]:
    """JSON numbers as floats (integers beyond the double range become ±inf); NaN where not a number."""
    if numeric.all():
        try:
            return np.array(values, dtype=np.float64)
        except OverflowError:
            pass
    return np.fromiter(map(_as_float, values), dtype=np.float64, count=len(values))


def _as_float(raw: object) -> float:
    if isinstance(raw, float):
        return raw
    if isinstance(raw, int) and not isinstance(raw, bool):
        try:
            return float(raw)
        except OverflowError:  # an integer beyond the double range is still a number, just not finite
            return math.inf if raw > 0 else -math.inf
    return math.nan


@dataclass(frozen=True, slots=True)
class ReadingColumns:
    """One row per reading of a batch, plus one entry per sample (`sample_*`) that rows point to."""

    sample: npt.NDArray[np.int32]
    quantity: npt.NDArray[np.int16]
    """Catalogue index, or UNKNOWN_QUANTITY."""
    value: npt.NDArray[np.float64]
    """The value as a float; NaN when the raw value was not a number (see `numeric`)."""
    numeric: npt.NDArray[np.bool_]
    keys: list[str]
    """The names as received, for rejection details."""
    sample_message: npt.NDArray[np.int32]
    sample_series: npt.NDArray[np.int32]
    sample_ts: npt.NDArray[np.int64]
    sample_clock: npt.NDArray[np.bool_]
    """The device time was missing or not credible; the sample's time is the receive time."""
    sample_position: dict[int, int]
    """Sample → index in a store-and-forward array or SenML pack (absent otherwise)."""
    sample_counts: npt.NDArray[np.int64]
    """Readings per sample."""
    sample_raw: list[dict[str, object] | None]
    """The decoded `readings` object of a sample that is exactly that object, else None."""

    def __len__(self) -> int:
        return len(self.keys)
