"""Seeded signal generators per device kind: same seed, same data.

Values follow a diurnal cycle around Bình Dương typical levels, with sensor noise, and always stay inside the
hard limits of the catalogue (clean data; faults are injected separately).
"""

from __future__ import annotations

import math

import numpy as np

from devices.quantities import QUANTITIES
from devices.registry import DeviceKind

_DAY_S = 86_400.0
_VN_OFFSET_S = 7 * 3600  # Asia/Ho_Chi_Minh, no DST

# quantity: (mean, diurnal amplitude, hour of peak, noise sd, decimals)
_PROFILES: dict[DeviceKind, dict[str, tuple[float, float, float, float, int]]] = {
    "water": {
        "ph": (6.8, 0.3, 15, 0.05, 2),
        "turbidity": (18.0, 4.0, 14, 1.5, 1),
        "do": (5.5, 1.2, 15, 0.2, 2),
        "ec": (180.0, 15.0, 14, 5.0, 0),
        "water_level": (120.0, 6.0, 4, 1.0, 1),
        "water_temp": (29.0, 1.5, 16, 0.1, 1),
    },
    "air": {
        "pm25": (28.0, 10.0, 8, 3.0, 0),
        "pm10": (48.0, 15.0, 8, 4.0, 0),
        "co2": (430.0, 25.0, 6, 8.0, 0),
        "air_temp": (28.0, 4.0, 14, 0.3, 1),
        "humidity": (76.0, -12.0, 14, 1.5, 1),
        "pressure": (1008.0, 1.5, 10, 0.2, 1),
    },
    "agri": {
        "soil_moisture": (32.0, -2.0, 15, 0.5, 1),
        "soil_temp": (29.0, 3.0, 15, 0.2, 1),
        "soil_ec": (450.0, 20.0, 15, 10.0, 0),
        "soil_ph": (5.8, 0.05, 15, 0.03, 2),
        "lux": (20_000.0, 20_000.0, 12, 500.0, 0),
        "rain": (0.0, 0.0, 0, 0.0, 1),
    },
}


def quantities_for(kind: DeviceKind) -> tuple[str, ...]:
    """The quantities a board of `kind` reports, in a stable order."""
    return tuple(_PROFILES[kind])


def sample_readings(kind: DeviceKind, ts_ms: int, rng: np.random.Generator) -> dict[str, float]:
    """One sample of every quantity of `kind` at `ts_ms`, rounded as firmware would send it."""
    local_hour = ((ts_ms / 1000 + _VN_OFFSET_S) % _DAY_S) / 3600
    readings: dict[str, float] = {}
    for name, (mean, amplitude, peak_hour, noise, decimals) in _PROFILES[kind].items():
        value = mean + amplitude * math.cos(2 * math.pi * (local_hour - peak_hour) / 24) + rng.normal(0, noise or 1e-9)
        if name == "lux":
            value = max(value, 0.0)
        if name == "rain":
            value = float(rng.exponential(2.0)) if rng.random() < 0.05 else 0.0
        limits = QUANTITIES[name]
        readings[name] = round(min(max(value, limits.hard_min), limits.hard_max), decimals)
    if "pm25" in readings and "pm10" in readings:
        readings["pm25"] = min(readings["pm25"], readings["pm10"])
    return readings
