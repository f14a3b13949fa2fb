"""Flatten samples into columns, so that every check after this runs once per batch in NumPy."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from devices.quantities import QUANTITY_INDEX
from ingest.samples import Sample

UNKNOWN_QUANTITY = -1


@dataclass(frozen=True, slots=True)
class ReadingColumns:
    """One row per reading of a batch."""

    sample: npt.NDArray[np.int32]
    quantity: npt.NDArray[np.int16]
    """Catalogue index, or UNKNOWN_QUANTITY."""
    value: npt.NDArray[np.float64]
    """The value as a float; NaN when the raw value was not a number (see `numeric`)."""
    numeric: npt.NDArray[np.bool_]
    keys: tuple[str, ...]
    """The names as received, for rejection details."""

    def __len__(self) -> int:
        return len(self.keys)


def _as_float(raw: object) -> float | None:
    """A JSON number as float; None for anything else (booleans, strings, null, objects)."""
    if isinstance(raw, float):
        return raw
    if isinstance(raw, int) and not isinstance(raw, bool):
        try:
            return float(raw)
        except OverflowError:  # an integer beyond the double range is still a number, just not finite
            return math.inf if raw > 0 else -math.inf
    return None


def columns_of(samples: Sequence[Sample]) -> ReadingColumns:
    """Columns of every reading of every sample, in sample order."""
    sample_ids: list[int] = []
    quantities: list[int] = []
    values: list[float] = []
    numeric: list[bool] = []
    keys: list[str] = []
    index = QUANTITY_INDEX
    for sample_id, sample in enumerate(samples):
        for key, raw in sample.readings.items():
            number = _as_float(raw)
            sample_ids.append(sample_id)
            quantities.append(index.get(key, UNKNOWN_QUANTITY))
            values.append(math.nan if number is None else number)
            numeric.append(number is not None)
            keys.append(key)
    return ReadingColumns(
        sample=np.array(sample_ids, dtype=np.int32),
        quantity=np.array(quantities, dtype=np.int16),
        value=np.array(values, dtype=np.float64),
        numeric=np.array(numeric, dtype=np.bool_),
        keys=tuple(keys),
    )
