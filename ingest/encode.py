"""Accepted readings to line protocol: one point per (sample, measurement), flags as `quality` points.

Series keys and field prefixes are built once (with the contract's escaping) and reused, and the values of a
whole batch are formatted by one orjson call (shortest round-trip, like repr, at a quarter of its cost), so the
per-reading cost is little more than a string concatenation.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import orjson

from devices.lineprotocol import encode_line, escape_key, series_key
from devices.quantities import CATALOGUE, DOMAIN_OF, DOMAINS
from devices.reasons import QualityFlag, flag_fields
from devices.schema import LINK, QUALITY, QUANTITY_ALL, STATUS, TAG_DEVICE, TAG_QUANTITY, TAG_VILLAGE
from ingest.columns import ReadingColumns, SeriesIds

_NAMES = tuple(q.name for q in CATALOGUE)
_PREFIX = tuple(f"{escape_key(name)}=" for name in _NAMES)
_DOMAINS = len(DOMAINS)
_DOMAIN_NAMES = tuple(d.value for d in DOMAINS)
_DATA_PREFIXES = tuple(f"{name}," for name in _DOMAIN_NAMES)
_ALL = -1
_UNREGISTERED_FIELD = f"{QualityFlag.UNREGISTERED.field}=1.0"
_FLAG_FIELDS = tuple(",".join(f"{name}=1.0" for name in flag_fields(bits)) for bits in range(1 << len(QualityFlag)))


@dataclass(frozen=True, slots=True)
class EncodedPoints:
    """Lines to write, with the message each line came from (to blame a refused line on its message)."""

    lines: list[str]
    origins: list[int]


@dataclass
class LineEncoder:
    """Encodes with series keys cached across batches: a province has thousands of devices, not millions."""

    series: SeriesIds
    _keys: dict[tuple[str, int], str] = field(default_factory=dict)
    _quality_keys: dict[tuple[int, int], str] = field(default_factory=dict)
    _data_keys: dict[int, str] = field(default_factory=dict)

    def key(self, measurement: str, series: int) -> str:
        """`measurement,device=..,village=..` of a series."""
        cache_key = (measurement, series)
        found = self._keys.get(cache_key)
        if found is None:
            tags = {TAG_VILLAGE: self.series.villages[series], TAG_DEVICE: self.series.devices[series]}
            found = self._keys[cache_key] = series_key(measurement, tags)
        return found

    def readings(self, columns: ReadingColumns, rows: npt.NDArray[np.intp]) -> EncodedPoints:
        """One line per (sample, measurement) over `rows`, which must all be accepted (known, finite).

        A sample that is exactly a decoded `readings` object, every value accepted and all in one measurement
        (the common case), is written from that object by one orjson call for all such samples: its JSON text
        `{"ph":7.2,"ec":250}` is the field set `ph=7.2,ec=250` once quotes and braces go (a bare number is a
        float in line protocol; identifiers are checked names). Everything else is assembled per reading.
        """
        if not len(rows):
            return EncodedPoints([], [])
        whole = self._whole_samples(columns, rows)
        if not len(whole):
            return self._assembled(columns, rows)
        bodies = orjson.dumps([columns.sample_raw[i] for i in whole.tolist()])[2:-2]
        fields = bodies.replace(b'"', b"").replace(b":", b"=").decode().split("},{")
        series_domain = (
            columns.sample_series[whole].astype(np.int64) * _DOMAINS
            + DOMAIN_OF[columns.quantity[self._first_row(columns, whole)]]
        ).tolist()
        get, make = self._data_keys.get, self._data_key
        lines = [
            f"{get(key) or make(key)} {body} {ts}"
            for key, body, ts in zip(series_domain, fields, columns.sample_ts[whole].tolist(), strict=True)
        ]
        rest = rows[~np.isin(columns.sample[rows], whole)]
        assembled = self._assembled(columns, rest)
        return EncodedPoints(lines + assembled.lines, columns.sample_message[whole].tolist() + assembled.origins)

    @staticmethod
    def _first_row(columns: ReadingColumns, samples: npt.NDArray[np.intp]) -> npt.NDArray[np.intp]:
        return np.searchsorted(columns.sample, samples)

    def _whole_samples(self, columns: ReadingColumns, rows: npt.NDArray[np.intp]) -> npt.NDArray[np.intp]:
        """Samples written from their decoded object: raw kept, every reading accepted, one measurement."""
        raw = np.fromiter((r is not None for r in columns.sample_raw), dtype=np.bool_, count=len(columns.sample_raw))
        if not raw.any():
            return np.zeros(0, dtype=np.intp)
        counts = columns.sample_counts
        accepted = (np.bincount(columns.sample[rows], minlength=len(raw)) == counts) & (counts > 0)
        known = np.zeros(len(columns), dtype=np.bool_)
        known[rows] = True
        domain = DOMAIN_OF[np.where(known, columns.quantity, 0)]
        starts = np.minimum(np.concatenate(([0], np.cumsum(counts)[:-1])), len(domain) - 1)
        one_domain = np.minimum.reduceat(domain, starts) == np.maximum.reduceat(domain, starts)
        return np.flatnonzero(raw & accepted & one_domain)

    def _assembled(self, columns: ReadingColumns, rows: npt.NDArray[np.intp]) -> EncodedPoints:
        """Lines assembled reading by reading (any sample)."""
        if not len(rows):
            return EncodedPoints([], [])
        quantity = columns.quantity[rows]
        value = columns.value[rows]
        if not np.isfinite(value).all():  # validation guarantees it; a bug must not write "nan" lines
            raise ValueError("refusing to encode a value that is not finite")
        group = columns.sample[rows].astype(np.int64) * _DOMAINS + DOMAIN_OF[quantity]
        order = np.argsort(group, kind="stable")
        group = group[order]
        prefixes = map(_PREFIX.__getitem__, quantity[order].tolist())
        fields = list(map(operator.add, prefixes, format_floats(value[order])))
        starts = np.flatnonzero(np.concatenate(([True], group[1:] != group[:-1])))
        samples = group[starts] // _DOMAINS
        series_domain = (columns.sample_series[samples].astype(np.int64) * _DOMAINS + group[starts] % _DOMAINS).tolist()
        bounds = [*starts.tolist(), len(order)]
        get, make = self._data_keys.get, self._data_key
        lines = [
            f"{get(key) or make(key)} {','.join(fields[start:end])} {ts}"
            for key, start, end, ts in zip(
                series_domain, bounds[:-1], bounds[1:], columns.sample_ts[samples].tolist(), strict=True
            )
        ]
        return EncodedPoints(lines, columns.sample_message[samples].tolist())

    def _data_key(self, series_domain: int) -> str:
        series, domain = divmod(series_domain, _DOMAINS)
        found = self._data_keys[series_domain] = self.key(_DOMAIN_NAMES[domain], series)
        return found

    def flags(self, columns: ReadingColumns, rows: npt.NDArray[np.intp], bits: npt.NDArray[np.uint8]) -> EncodedPoints:
        """One `quality` point per flagged reading in `rows`, one 1.0 field per flag in `bits`."""
        samples = columns.sample[rows]
        lines = [
            f"{self._quality_key(s, q)} {_FLAG_FIELDS[b]} {t}"
            for s, q, b, t in zip(
                columns.sample_series[samples].tolist(),
                columns.quantity[rows].tolist(),
                bits.tolist(),
                columns.sample_ts[samples].tolist(),
                strict=True,
            )
        ]
        return EncodedPoints(lines, columns.sample_message[samples].tolist())

    def unregistered(self, series: int, ts_ms: int) -> str:
        """The once-per-batch `quality` point that marks a device as not (or differently) registered."""
        return f"{self._quality_key(series, _ALL)} {_UNREGISTERED_FIELD} {ts_ms}"

    def status(self, series: int, *, online: bool, ts_ms: int) -> str:
        """A `status` point."""
        return f"{self.key(STATUS, series)} online={1.0 if online else 0.0} {ts_ms}"

    def link(self, series: int, fields: list[tuple[str, float]], ts_ms: int) -> str:
        """A `link` point (message accounting)."""
        return encode_line(self.key(LINK, series), fields, ts_ms)

    def _quality_key(self, series: int, quantity: int) -> str:
        """`quality,device=..,quantity=..,village=..`; quantity _ALL is the whole device."""
        found = self._quality_keys.get((series, quantity))
        if found is None:
            tags = {
                TAG_VILLAGE: self.series.villages[series],
                TAG_DEVICE: self.series.devices[series],
                TAG_QUANTITY: QUANTITY_ALL if quantity == _ALL else _NAMES[quantity],
            }
            found = self._quality_keys[(series, quantity)] = series_key(QUALITY, tags)
        return found


def format_floats(values: npt.NDArray[np.float64]) -> list[str]:
    """Finite floats as line-protocol float fields, e.g. `7.0`, `0.30000000000000004`, `1e+16`."""
    if not len(values):
        return []
    return orjson.dumps(values, option=orjson.OPT_SERIALIZE_NUMPY)[1:-1].decode().split(",")


def readings_in(line: str) -> int:
    """How many readings a line carries (fields of a data measurement; 0 for flags, status, link)."""
    if not line.startswith(_DATA_PREFIXES):
        return 0
    return line.split(" ", 2)[1].count(",") + 1
