"""Accepted readings to line protocol: one point per (sample, measurement), flags as `quality` points."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from devices.lineprotocol import encode_line, series_key
from devices.quantities import CATALOGUE, DOMAIN_OF, DOMAINS
from devices.reasons import flag_fields
from devices.schema import QUALITY, TAG_DEVICE, TAG_QUANTITY, TAG_VILLAGE
from ingest.samples import Sample

_NAMES = tuple(q.name for q in CATALOGUE)


@dataclass
class SeriesKeys:
    """Series keys cached across batches: a province has thousands of devices, not millions."""

    _cache: dict[tuple[str, str, str], str] = field(default_factory=dict)

    def key(self, measurement: str, village: str, device: str) -> str:
        cache_key = (measurement, village, device)
        found = self._cache.get(cache_key)
        if found is None:
            found = series_key(measurement, {TAG_VILLAGE: village, TAG_DEVICE: device})
            self._cache[cache_key] = found
        return found


@dataclass(frozen=True, slots=True)
class EncodedPoints:
    """Lines to write, with the message each line came from (to blame a refused line on its message)."""

    lines: list[str]
    origins: list[int]


def encode_readings(
    samples: Sequence[Sample],
    sample_ids: npt.NDArray[np.int32],
    quantities: npt.NDArray[np.int16],
    values: npt.NDArray[np.float64],
    keys: SeriesKeys,
) -> EncodedPoints:
    """One line per (sample, measurement) over rows that are all accepted and known."""
    if not len(values):
        return EncodedPoints([], [])
    domains = DOMAIN_OF[quantities]
    group = sample_ids.astype(np.int64) * len(DOMAINS) + domains
    order = np.argsort(group, kind="stable")
    group_sorted = group[order]
    starts = np.flatnonzero(np.concatenate(([True], group_sorted[1:] != group_sorted[:-1])))
    ends = np.append(starts[1:], len(order))
    names = [_NAMES[q] for q in quantities[order].tolist()]
    floats = values[order].tolist()
    lines: list[str] = []
    origins: list[int] = []
    for start, end, g in zip(starts.tolist(), ends.tolist(), group_sorted[starts].tolist(), strict=True):
        sample = samples[g // len(DOMAINS)]
        series = keys.key(DOMAINS[g % len(DOMAINS)].value, sample.topic.village, sample.topic.device)
        lines.append(encode_line(series, zip(names[start:end], floats[start:end], strict=True), sample.ts_ms))
        origins.append(sample.message)
    return EncodedPoints(lines, origins)


def encode_flags(
    samples: Sequence[Sample],
    sample_ids: npt.NDArray[np.int32],
    quantities: npt.NDArray[np.int16],
    flags: npt.NDArray[np.uint8],
) -> EncodedPoints:
    """One `quality` point per flagged reading, one 1.0 field per flag."""
    lines: list[str] = []
    origins: list[int] = []
    for sample_id, quantity, bits in zip(sample_ids.tolist(), quantities.tolist(), flags.tolist(), strict=True):
        sample = samples[sample_id]
        tags = {TAG_VILLAGE: sample.topic.village, TAG_DEVICE: sample.topic.device, TAG_QUANTITY: _NAMES[quantity]}
        fields = [(name, 1.0) for name in flag_fields(bits)]
        lines.append(encode_line(series_key(QUALITY, tags), fields, sample.ts_ms))
        origins.append(sample.message)
    return EncodedPoints(lines, origins)
