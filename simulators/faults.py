"""Fault injection with ground truth: what a real sensor, radio or firmware gets wrong, and exactly what it did.

Rates are probabilities per reading (spike, stuck, nan, out_of_range), per sample (dropout), per message
(malformed_json, duplicate), per store-and-forward upload (out_of_order), per SenML record (wrong_unit) or per
board (clock_skew, flooding). Every injection returns a record for the ground-truth log with enough detail
(quantity, original value, injected value) to predict what the pipeline stores and rejects.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from devices.quantities import QUANTITIES

FaultRecord = dict[str, Any]

NAN_SENTINEL = "__simulated_nan__"
"""Stands for NaN inside a sample until payloads.py writes it as the JSON token NaN (orjson cannot)."""

WRONG_UNITS: dict[str, str] = {
    # a unit the quantity can never be converted from (devices/units.py): the record must be refused
    "ph": "Cel",
    "turbidity": "m",
    "do": "Cel",
    "ec": "lx",
    "water_level": "Cel",
    "water_temp": "%RH",
    "pm25": "Cel",
    "pm10": "lx",
    "co2": "Cel",
    "air_temp": "%RH",
    "humidity": "Cel",
    "pressure": "m",
    "soil_moisture": "Cel",
    "soil_temp": "lx",
    "soil_ec": "Cel",
    "soil_ph": "Cel",
    "soil_n": "Cel",
    "soil_p": "Cel",
    "soil_k": "Cel",
    "rain": "Cel",
    "lux": "Cel",
    "leaf_wetness": "Cel",
    "bat": "Cel",
    "rssi": "Cel",
}


class FaultRates(BaseModel):
    """How often each fault happens; all zero is a healthy fleet."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    spike: float = Field(0.0, ge=0, le=1, description="per reading: a short implausible jump, inside hard limits")
    stuck: float = Field(0.0, ge=0, le=1, description="per reading: the sensor starts repeating its last value")
    stuck_samples: int = Field(6, ge=2, description="how many samples a stuck sensor repeats itself")
    dropout: float = Field(0.0, ge=0, le=1, description="per sample: taken (seq used) but never sent")
    nan: float = Field(0.0, ge=0, le=1, description="per reading: NaN (native JSON token; SenML cannot carry it)")
    out_of_range: float = Field(0.0, ge=0, le=1, description="per reading: beyond the sensor's hard limits")
    malformed_json: float = Field(0.0, ge=0, le=1, description="per message: payload cut short")
    duplicate: float = Field(0.0, ge=0, le=1, description="per message: published twice (firmware retry)")
    out_of_order: float = Field(0.0, ge=0, le=1, description="per upload: buffered samples sent newest first")
    wrong_unit: float = Field(0.0, ge=0, le=1, description="per SenML record: a unit that cannot be converted")
    clock_skew: float = Field(0.0, ge=0, le=1, description="per board: its clock is off by clock_skew_s")
    clock_skew_s: tuple[float, float] = Field((-7200.0, 1800.0), description="range of the offset (s)")
    flooding: float = Field(0.0, ge=0, le=1, description="per board: publishes flood_hz messages per second")
    flood_hz: float = Field(20.0, gt=0, le=1000)

    @property
    def any_reading_faults(self) -> bool:
        return any((self.spike, self.stuck, self.nan, self.out_of_range))


class FaultInjector:
    """The faults of one board, from its own random stream (so faults never change the clean signal)."""

    def __init__(self, rates: FaultRates, rng: np.random.Generator, *, allow_nan: bool) -> None:
        self.rates = rates
        self._rng = rng
        self._allow_nan = allow_nan
        self._stuck: dict[str, tuple[float, int]] = {}

    def readings(self, readings: dict[str, float]) -> tuple[dict[str, float | str], list[FaultRecord]]:
        """One sample's readings with value faults applied, and what was done."""
        if not self.rates.any_reading_faults and not self._stuck:
            return dict(readings), []
        out: dict[str, float | str] = {}
        records: list[FaultRecord] = []
        for quantity, value in readings.items():
            injected, record = self._reading(quantity, value)
            out[quantity] = injected
            if record is not None:
                records.append(record)
        return out, records

    def _reading(self, quantity: str, value: float) -> tuple[float | str, FaultRecord | None]:
        r = self.rates
        stuck = self._stuck.get(quantity)
        if stuck is not None:
            held, left = stuck
            self._stuck[quantity] = (held, left - 1)
            if left <= 1:
                del self._stuck[quantity]
            return held, _record("stuck", quantity, value, held)
        u = float(self._rng.random())
        limits = QUANTITIES[quantity]
        span = limits.hard_max - limits.hard_min
        if u < r.spike:
            direction = 1.0 if value < limits.hard_min + span / 2 else -1.0
            injected = round(value + direction * span * float(self._rng.uniform(0.15, 0.35)), 3)
            return injected, _record("spike", quantity, value, injected)
        u -= r.spike
        if u < r.stuck:
            self._stuck[quantity] = (value, r.stuck_samples - 1)
            return value, _record("stuck", quantity, value, value)
        u -= r.stuck
        if u < r.out_of_range:
            above = limits.hard_max + span * float(self._rng.uniform(0.05, 0.5))
            below = limits.hard_min - span * float(self._rng.uniform(0.05, 0.5))
            injected = round(above if self._rng.random() < 0.5 else below, 3)
            return injected, _record("out_of_range", quantity, value, injected)
        u -= r.out_of_range
        if self._allow_nan and u < r.nan:
            return NAN_SENTINEL, _record("nan", quantity, value, "NaN")
        return value, None

    def happens(self, rate: float) -> bool:
        """One draw for a per-message or per-upload fault."""
        return rate > 0 and float(self._rng.random()) < rate

    def cut_point(self, length: int) -> int:
        """Where a malformed payload is cut: anywhere that leaves the JSON unfinished."""
        return int(self._rng.integers(1, max(length - 1, 2)))

    def wrong_units(self, quantities: list[str]) -> dict[str, str]:
        """SenML records that get a unit that cannot be converted."""
        return {q: WRONG_UNITS[q] for q in quantities if self.happens(self.rates.wrong_unit)}


def _record(kind: str, quantity: str, original: float, injected: float | str) -> FaultRecord:
    return {"kind": kind, "quantity": quantity, "original": original, "injected": injected}
