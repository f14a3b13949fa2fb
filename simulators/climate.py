"""Bình Dương climate normals, so simulated weather has the shape a hydrologist or agronomist expects.

Monthly normals of Ho Chi Minh City (Tân Sơn Nhất, WMO normals as published in Wikipedia's climate table),
the nearest long-record station, 20–30 km south of Bình Dương's communes. Bình Dương's own description agrees
in shape: tropical monsoon, dry season December–April, rainy season May–November carrying 85–90 % of annual
rain (neighbouring Bình Phước: 2,045–2,325 mm a year), annual mean ≈ 26.5–28 °C, April hottest.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

# January … December
MEAN_HIGH_C = (31.6, 32.9, 33.9, 34.6, 34.0, 32.4, 32.0, 31.8, 31.3, 31.2, 31.0, 30.8)
DAILY_MEAN_C = (26.4, 27.7, 29.2, 30.2, 29.6, 28.5, 28.2, 28.1, 27.9, 27.6, 26.9, 26.1)
MEAN_LOW_C = (21.1, 22.5, 24.4, 25.8, 25.2, 24.6, 24.3, 24.3, 24.4, 23.9, 22.8, 21.4)
RAIN_MM = (13.8, 4.1, 10.5, 50.4, 218.4, 311.7, 293.7, 269.8, 327.1, 266.7, 116.5, 48.3)
RAINY_DAYS = (2.4, 1.0, 1.9, 5.4, 17.8, 19.0, 22.9, 22.4, 23.1, 20.9, 12.1, 6.7)
RELATIVE_HUMIDITY = (69, 68, 68, 70, 76, 80, 80, 81, 82, 83, 78, 73)
DAYS_IN_MONTH = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
WET_MONTHS = (5, 6, 7, 8, 9, 10, 11)
"""May–November: the rainy season."""

SOURCE = (
    "Ho Chi Minh City (Tân Sơn Nhất) WMO climate normals, Wikipedia climate table; "
    "Bình Dương / Bình Phước climate summaries (thoitiet4m.com, kenhthoitiet.vn)"
)

DAY_MS = 86_400_000
HOUR_MS = 3_600_000
LOCAL_OFFSET_MS = 7 * HOUR_MS
"""Asia/Ho_Chi_Minh is UTC+7 all year (no daylight saving)."""

_YEAR_DAYS = 365.2425
_MID_MONTH_DAY = np.cumsum((0, *DAYS_IN_MONTH[:-1])) + np.array(DAYS_IN_MONTH) / 2


def local_hours(ts_ms: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
    """Local clock time in hours (0–24) of each timestamp."""
    return ((ts_ms + LOCAL_OFFSET_MS) % DAY_MS) / HOUR_MS


def local_days(ts_ms: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Local calendar day number since 1970-01-01 of each timestamp."""
    return (ts_ms + LOCAL_OFFSET_MS) // DAY_MS


def months(ts_ms: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Local calendar month (1–12) of each timestamp."""
    days = local_days(ts_ms).astype("datetime64[D]")
    return (days.astype("datetime64[M]").astype(np.int64) % 12) + 1


def day_of_year(ts_ms: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
    """Fractional local day of the year (0 = 1 January 00:00)."""
    local = ts_ms + LOCAL_OFFSET_MS
    year_start = local.astype("datetime64[ms]").astype("datetime64[Y]").astype("datetime64[ms]").astype(np.int64)
    return (local - year_start) / DAY_MS


def seasonal(monthly: tuple[float, ...], ts_ms: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
    """A monthly normal interpolated smoothly (periodic, between mid-month anchors) at each timestamp."""
    anchors_x = np.concatenate((_MID_MONTH_DAY[-1:] - 365, _MID_MONTH_DAY, _MID_MONTH_DAY[:1] + 365))
    values = np.array(monthly, dtype=np.float64)
    anchors_y = np.concatenate((values[-1:], values, values[:1]))
    return np.interp(day_of_year(ts_ms) % 365, anchors_x, anchors_y)


def wet_season_weight(ts_ms: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
    """0 in the heart of the dry season, 1 in the heart of the rainy season (from the monthly rain normals)."""
    rain = np.array(RAIN_MM)
    scaled = tuple(float(v) for v in (rain - rain.min()) / (rain.max() - rain.min()))
    return seasonal(scaled, ts_ms)
