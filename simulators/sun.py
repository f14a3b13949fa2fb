"""Where the sun is over a commune: daylight drives temperature, light sensors and solar charging."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from simulators.climate import DAY_MS, day_of_year

CLEAR_SKY_LUX = 110_000.0
"""Direct plus diffuse daylight at the zenith on a clear tropical day (order of magnitude: 100–120 klx)."""


def solar_elevation_sin(ts_ms: npt.NDArray[np.int64], *, lat: float, lon: float) -> npt.NDArray[np.float64]:
    """sin(solar elevation) at each time; negative at night (declination and hour angle, ±1° accuracy)."""
    declination = np.radians(23.44) * np.sin(2 * np.pi * (day_of_year(ts_ms) - 80) / 365.2425)
    solar_hours = ((ts_ms % DAY_MS) / 3_600_000 + lon / 15.0) % 24
    hour_angle = np.radians(15.0 * (solar_hours - 12.0))
    phi = np.radians(lat)
    elevation: npt.NDArray[np.float64] = np.sin(phi) * np.sin(declination) + np.cos(phi) * np.cos(declination) * np.cos(
        hour_angle
    )
    return elevation


def daylight(ts_ms: npt.NDArray[np.int64], *, lat: float, lon: float) -> npt.NDArray[np.float64]:
    """Clear-sky daylight as a fraction of the zenith value (0 at night)."""
    return np.clip(solar_elevation_sin(ts_ms, lat=lat, lon=lon), 0.0, 1.0) ** 1.15
