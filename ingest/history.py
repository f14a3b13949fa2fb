"""What each sensor said last, kept across batches, so spikes and stuck sensors are seen at batch boundaries too."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from devices.quantities import CATALOGUE
from ingest import validate

_QUANTITIES = len(CATALOGUE)
_NEVER = np.iinfo(np.int64).min // 2


class SensorHistory:
    """Last value, time and identical-value run length per (series, quantity), in dense arrays."""

    def __init__(self) -> None:
        self._value = np.full(0, np.nan)
        self._ts_ms = np.full(0, _NEVER, dtype=np.int64)
        self._run = np.zeros(0, dtype=np.int64)

    def check(
        self,
        series: npt.NDArray[np.integer],
        quantity: npt.NDArray[np.integer],
        ts_ms: npt.NDArray[np.int64],
        value: npt.NDArray[np.float64],
    ) -> tuple[validate.Mask, validate.Mask]:
        """(spike, stuck) masks of accepted readings, then remember the newest reading of each sensor.

        Readings older than what a sensor already reported (a late store-and-forward upload) are compared among
        themselves only, and do not replace the newer history.
        """
        spike = np.zeros(len(value), dtype=np.bool_)
        stuck = np.zeros(len(value), dtype=np.bool_)
        if not len(value):
            return spike, stuck
        key = series.astype(np.int64) * _QUANTITIES + quantity
        self._grow(int(key.max()) + 1)
        order = np.lexsort((ts_ms, key))
        k, t, v, q = key[order], ts_ms[order], value[order], quantity[order]
        starts = np.ones(len(k), dtype=np.bool_)
        starts[1:] = k[1:] != k[:-1]
        known = starts & (self._ts_ms[k] < t)
        prev_t = np.where(known, self._ts_ms[k], np.concatenate(([_NEVER], t[:-1])))
        prev_v = np.where(known, self._value[k], np.concatenate(([np.nan], v[:-1])))
        prev_v[starts & ~known] = np.nan
        spike[order] = validate.jumps(q, t, v, prev_t, prev_v)
        runs = validate.run_lengths(starts, v == prev_v, np.where(known, self._run[k], 0))
        stuck[order] = validate.stuck(q, runs)
        ends = np.flatnonzero(np.concatenate((starts[1:], [True])))
        newer = ends[t[ends] >= self._ts_ms[k[ends]]]
        self._value[k[newer]] = v[newer]
        self._ts_ms[k[newer]] = t[newer]
        self._run[k[newer]] = runs[newer]
        return spike, stuck

    def conflicts(
        self,
        series: npt.NDArray[np.integer],
        quantity: npt.NDArray[np.integer],
        ts_ms: npt.NDArray[np.int64],
        value: npt.NDArray[np.float64],
    ) -> validate.Mask:
        """Readings at the very time of their sensor's last accepted reading but with another value.

        Writing one would overwrite that stored point: a device clock stuck on one time, or a garbled resend.
        """
        clash = np.zeros(len(value), dtype=np.bool_)
        if not len(value) or not len(self._value):
            return clash
        key = series.astype(np.int64) * _QUANTITIES + quantity
        seen = key < len(self._value)
        k = key[seen]
        clash[seen] = (self._ts_ms[k] == ts_ms[seen]) & (self._value[k] != value[seen])
        return clash

    def _grow(self, size: int) -> None:
        if size <= len(self._value):
            return
        size = max(size, 2 * len(self._value), 1024)
        extra = size - len(self._value)
        self._value = np.concatenate((self._value, np.full(extra, np.nan)))
        self._ts_ms = np.concatenate((self._ts_ms, np.full(extra, _NEVER, dtype=np.int64)))
        self._run = np.concatenate((self._run, np.zeros(extra, dtype=np.int64)))
