"""The weather over one commune: temperature, humidity, daylight and rainy-season storms.

Temperature follows the monthly normals (mean, mean high, mean low) with a diurnal curve that is coldest at
dawn and warmest mid-afternoon, a smooth day-to-day anomaly, and the cooling of a storm. Rain comes as
convective afternoon and evening storms whose frequency and size follow the monthly rainy days and totals,
so about 93 % of the year's rain falls May–November, as in the normals.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from simulators.climate import (
    DAILY_MEAN_C,
    DAYS_IN_MONTH,
    HOUR_MS,
    MEAN_HIGH_C,
    MEAN_LOW_C,
    RAIN_MM,
    RAINY_DAYS,
    RELATIVE_HUMIDITY,
    local_hours,
    seasonal,
    wet_season_weight,
)
from simulators.events import DailyEvents, daily_values
from simulators.sun import CLEAR_SKY_LUX, daylight

Int64s = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]

_COLDEST_HOUR = 6.0
_WARMEST_HOUR = 14.5


def _diurnal_table() -> tuple[Floats, Floats]:
    """A zero-mean daily curve from −1 at dawn to +1 mid-afternoon (warming is faster than cooling)."""
    hours = np.linspace(0.0, 24.0, 24 * 12 + 1)
    since_min = (hours - _COLDEST_HOUR) % 24
    rise = _WARMEST_HOUR - _COLDEST_HOUR
    shape = np.where(
        since_min <= rise,
        -np.cos(np.pi * since_min / rise),
        np.cos(np.pi * (since_min - rise) / (24 - rise)),
    )
    shape -= shape[:-1].mean()
    return hours, shape / (shape.max() - shape.min()) * 2


_DIURNAL_HOURS, _DIURNAL_SHAPE = _diurnal_table()


def diurnal(ts_ms: Int64s, *, lag_h: float = 0.0) -> Floats:
    """The daily curve at each time (zero mean, about −1 at dawn, +1 mid-afternoon), optionally lagged."""
    return np.interp((local_hours(ts_ms) - lag_h) % 24, _DIURNAL_HOURS, _DIURNAL_SHAPE)


def _month_of_day(day: int) -> int:
    return int(np.datetime64(day, "D").astype("datetime64[M]").astype(np.int64) % 12)


def _draw_storms(rng: np.random.Generator, day: int) -> list[tuple[int, int, float]]:
    month = _month_of_day(day)
    if rng.random() >= RAINY_DAYS[month] / DAYS_IN_MONTH[month]:
        return []
    mean_mm = RAIN_MM[month] / RAINY_DAYS[month]
    total_mm = float(np.clip(rng.gamma(0.9, mean_mm / 0.9), 0.3, 180.0))
    shares = (0.7, 0.3) if rng.random() < 0.2 else (1.0,)
    storms = []
    for share in shares:
        start_h = float(np.clip(rng.normal(15.5, 2.5), 0.5, 23.0))  # convective: afternoon and evening
        duration_h = float(np.clip(rng.lognormal(math.log(1.2), 0.5), 0.25, 5.0))
        storms.append((int(start_h * HOUR_MS), int(duration_h * HOUR_MS), total_mm * share))
    return storms


class VillageWeather:
    """The weather one commune shares: every board there sees the same storms and the same sun."""

    def __init__(self, *, seed: int, index: int, lat: float, lon: float) -> None:
        self.lat = lat
        self.lon = lon
        self.storms = DailyEvents(_draw_storms, key=(seed, 11, index), lookback_days=12)
        self._anomaly_key = (seed, 12, index)
        self._cloud_key = (seed, 13, index)

    def wetness(self, ts_ms: Int64s, *, tau_h: float = 2.0) -> Floats:
        """Recent rain in mm, fading with time constant `tau_h` after each storm."""
        return self.storms.decaying(ts_ms, tau_ms=tau_h * HOUR_MS)

    def daily_mean_temp(self, ts_ms: Int64s) -> Floats:
        """The day's mean air temperature (°C): monthly normal plus a smooth day-to-day anomaly."""
        return seasonal(DAILY_MEAN_C, ts_ms) + daily_values(ts_ms, key=self._anomaly_key, sd=0.8)

    def storm_cooling(self, ts_ms: Int64s) -> Floats:
        """How much colder (°C) rain has made the air, fading over a couple of hours."""
        return 3.0 * np.tanh(self.wetness(ts_ms) / 5.0)

    def air_temp(self, ts_ms: Int64s) -> Floats:
        """Air temperature (°C): monthly normals, daily curve, day-to-day anomaly, storm cooling."""
        half_range = (seasonal(MEAN_HIGH_C, ts_ms) - seasonal(MEAN_LOW_C, ts_ms)) / 2
        return self.daily_mean_temp(ts_ms) + half_range * diurnal(ts_ms) - self.storm_cooling(ts_ms)

    def humidity(self, ts_ms: Int64s) -> Floats:
        """Relative humidity (%): monthly normals, lowest in the afternoon heat, near saturation in rain."""
        swing = 2.2 * (seasonal(MEAN_HIGH_C, ts_ms) - seasonal(MEAN_LOW_C, ts_ms))
        wet = np.tanh(self.wetness(ts_ms) / 3.0)
        dry_curve = seasonal(RELATIVE_HUMIDITY, ts_ms) - swing / 2 * diurnal(ts_ms)
        return np.clip(dry_curve + (97.0 - dry_curve) * wet, 20.0, 100.0)

    def cloud_transmittance(self, ts_ms: Int64s) -> Floats:
        """Share of clear-sky daylight that gets through: cloudier in the rainy season, dark under a storm."""
        wet_season = wet_season_weight(ts_ms)
        day_cloud = np.clip(0.5 + daily_values(ts_ms, key=self._cloud_key, sd=0.5), 0.0, 1.0)
        typical = 0.92 - 0.35 * wet_season - 0.15 * day_cloud
        return np.where(self.storms.active(ts_ms), 0.15 * typical, typical)

    def lux(self, ts_ms: Int64s) -> Floats:
        """Daylight illuminance (lx) on a horizontal sensor."""
        return CLEAR_SKY_LUX * daylight(ts_ms, lat=self.lat, lon=self.lon) * self.cloud_transmittance(ts_ms)
