"""What the pages must say, computed from the samples sent with NumPy, independently of api/."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np

from devices.standards import VN_AQI_BREAKPOINTS, VN_AQI_CATEGORIES, VN_AQI_INDEX

VN = ZoneInfo("Asia/Ho_Chi_Minh")
HOUR_MS = 3_600_000


def hourly_means(samples: list[tuple[int, float]], *, now_ms: int) -> list[float | None]:
    """c1 … c12: means of the 12 complete hours before `now_ms`, c1 the latest (None for an empty hour)."""
    ts = np.array([t for t, _ in samples], dtype=np.int64)
    values = np.array([v for _, v in samples])
    stop = now_ms - now_ms % HOUR_MS
    means: list[float | None] = []
    for i in range(12):
        inside = (ts >= stop - (i + 1) * HOUR_MS) & (ts < stop - i * HOUR_MS)
        means.append(float(values[inside].mean()) if inside.any() else None)
    return means


def nowcast(c: list[float | None]) -> float:
    """QĐ 1459 Công thức 2's Nowcast (weights min/max, floored at 1/2; that branch not normalised)."""
    present = np.array([(i, v) for i, v in enumerate(c, start=1) if v is not None])
    w = max(present[:, 1].min() / present[:, 1].max(), 0.5)
    if w == 0.5:
        return float(np.sum(0.5 ** present[:, 0] * present[:, 1]))
    weights = w ** (present[:, 0] - 1)
    return float(np.sum(weights * present[:, 1]) / np.sum(weights))


def vn_aqi(pollutant: str, concentration: float) -> int:
    """Công thức 1 on the Bảng 2 breakpoints, rounded half up."""
    value = float(
        np.interp(concentration, VN_AQI_BREAKPOINTS[pollutant], VN_AQI_INDEX[: len(VN_AQI_BREAKPOINTS[pollutant])])
    )
    return int(np.floor(value + 0.5))


def category_word(value: int, *, lang: str = "vi") -> str:
    """The Bảng 1 word for an index value."""
    found = next(c for c in VN_AQI_CATEGORIES if value <= c.high)
    return found.label_vi if lang == "vi" else found.label_en


def station_aqi(pm: dict[str, list[tuple[int, float]]], *, now_ms: int) -> int:
    """A station's hourly VN_AQI: the largest PM sub-index of the Nowcasts."""
    return max(vn_aqi(p, nowcast(hourly_means(s, now_ms=now_ms))) for p, s in pm.items())


def rain_today(per_device: dict[str, list[tuple[int, float]]], *, now_ms: int) -> float | None:
    """Mean over gauges of each gauge's rain since local midnight (None when no gauge reported today)."""
    local = datetime.fromtimestamp(now_ms / 1000, tz=VN)
    midnight_ms = int(local.replace(hour=0, minute=0, second=0, microsecond=0).timestamp() * 1000)
    totals = [
        sum(v for t, v in s if t >= midnight_ms) for s in per_device.values() if any(t >= midnight_ms for t, _ in s)
    ]
    return float(np.mean(totals)) if totals else None


def vi_decimal(value: float, decimals: int) -> str:
    """Vietnamese decimal comma, thousands dot."""
    return f"{value:,.{decimals}f}".replace(",", " ").replace(".", ",").replace(" ", ".")
