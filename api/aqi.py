"""VN_AQI (QĐ 1459/QĐ-TCMT) and the US EPA AQI computed from concentrations; tables in devices.standards.

Rounding: the decision rounds AQI "to an integer" without saying how, and no single rule reproduces all of
its worked examples (NO2 59.35 is printed 60, yet ceiling would make its daily NO2 66 instead of 65). We round
half up, which reproduces every example within ±1, and return the unrounded sub-indices too.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from devices.standards import (
    EPA_CATEGORIES,
    EPA_NOWCAST_MIN_WEIGHT,
    EPA_PM10_24H,
    EPA_PM25_24H,
    VN_AQI_BREAKPOINTS,
    VN_AQI_CATEGORIES,
    VN_AQI_INDEX,
    VN_AQI_NOWCAST_HOURS,
    VN_AQI_NOWCAST_MIN_RECENT,
    VN_AQI_NOWCAST_MIN_WEIGHT,
    AqiCategory,
    EpaBand,
)

TOP = 500


@dataclass(frozen=True, slots=True)
class SubIndex:
    """The index of one pollutant; `above_scale` when the concentration is beyond the last breakpoint."""

    value: float
    above_scale: bool = False


@dataclass(frozen=True, slots=True)
class Index:
    """An overall index: the maximum sub-index, rounded, with the pollutant that set it."""

    value: int
    dominant: str
    category: AqiCategory
    sub_indices: Mapping[str, float]
    above_scale: bool


def round_half_up(value: float) -> int:
    """Ordinary rounding (0.5 goes up), unlike Python's round() which rounds half to even."""
    return math.floor(value + 0.5)


def vn_sub_index(pollutant: str, concentration: float) -> SubIndex:
    """QĐ 1459 Công thức 1/2: linear between the breakpoints around `concentration` (µg/m³).

    Raises:
        KeyError: `pollutant` is not in VN_AQI_BREAKPOINTS.
    """
    breakpoints = VN_AQI_BREAKPOINTS[pollutant]
    c = max(concentration, 0.0)
    for i in range(len(breakpoints) - 1):
        low, high = breakpoints[i], breakpoints[i + 1]
        if c <= high:
            return SubIndex((VN_AQI_INDEX[i + 1] - VN_AQI_INDEX[i]) / (high - low) * (c - low) + VN_AQI_INDEX[i])
    return SubIndex(float(VN_AQI_INDEX[len(breakpoints) - 1]), above_scale=True)


def _present(hourly: Sequence[float | None]) -> list[tuple[int, float]]:
    """(i, ci) for the hours that have a value; i = 1 is the current hour."""
    return [(i, float(c)) for i, c in enumerate(hourly, start=1) if c is not None and not math.isnan(c)]


def _weight(values: list[tuple[int, float]], floor: float) -> float:
    c_max = max(c for _, c in values)
    ratio = min(c for _, c in values) / c_max if c_max > 0 else 1.0
    return max(ratio, floor)


def vn_nowcast(hourly: Sequence[float | None]) -> float | None:
    """QĐ 1459 Nowcast of PM from hourly means c1 (current hour) … c12; None/NaN for a missing hour.

    Returns None unless at least 2 of c1, c2, c3 are present. Missing hours weigh 0. With w = 1/2 the
    decision's formula Σ (1/2)^i·ci is not normalised, and is followed as written.
    """
    values = _present(hourly[:VN_AQI_NOWCAST_HOURS])
    if sum(1 for i, _ in values if i <= 3) < VN_AQI_NOWCAST_MIN_RECENT:
        return None
    w = _weight(values, VN_AQI_NOWCAST_MIN_WEIGHT)
    if w <= VN_AQI_NOWCAST_MIN_WEIGHT:
        return sum(0.5**i * c for i, c in values)
    return sum(w ** (i - 1) * c for i, c in values) / sum(w ** (i - 1) for i, _ in values)


def epa_nowcast(hourly: Sequence[float | None]) -> float | None:
    """EPA NowCast: same weight as VN (min/max, floored at 0.5) but always normalised; None like vn_nowcast."""
    values = _present(hourly[:12])
    if sum(1 for i, _ in values if i <= 3) < 2:
        return None
    w = _weight(values, EPA_NOWCAST_MIN_WEIGHT)
    return sum(w ** (i - 1) * c for i, c in values) / sum(w ** (i - 1) for i, _ in values)


def category(value: int, categories: Sequence[AqiCategory]) -> AqiCategory:
    """The band holding `value` (values above the scale fall in the last band)."""
    return next((c for c in categories if value <= c.high), categories[-1])


def vn_aqi(concentrations: Mapping[str, float]) -> Index | None:
    """VN_AQI from concentrations keyed like VN_AQI_BREAKPOINTS (Nowcast for hourly PM, means for daily).

    Returns None when no concentration is given. Daily O3 (max of the 1-h and 8-h indices) is the caller's job:
    pass both `o3_1h` and `o3_8h` and the maximum is taken like every other pollutant.
    """
    subs = {p: vn_sub_index(p, c) for p, c in concentrations.items()}
    if not subs:
        return None
    dominant = max(subs, key=lambda p: subs[p].value)
    value = min(round_half_up(subs[dominant].value), TOP)
    return Index(
        value=value,
        dominant=dominant,
        category=category(value, VN_AQI_CATEGORIES),
        sub_indices={p: s.value for p, s in subs.items()},
        above_scale=any(s.above_scale for s in subs.values()),
    )


_EPA_TABLES: Mapping[str, tuple[tuple[EpaBand, ...], int]] = {"pm25": (EPA_PM25_24H, 1), "pm10": (EPA_PM10_24H, 0)}


def epa_sub_index(pollutant: str, concentration: float) -> SubIndex:
    """EPA AQI of PM2.5 or PM10 (µg/m³): truncate (0.1 for PM2.5, 1 for PM10), then interpolate in the band."""
    table, decimals = _EPA_TABLES[pollutant]
    scale = 10**decimals
    c = math.floor(max(concentration, 0.0) * scale + 1e-9) / scale
    for band in table:
        if c <= band.c_high:
            return SubIndex((band.i_high - band.i_low) / (band.c_high - band.c_low) * (c - band.c_low) + band.i_low)
    return SubIndex(float(TOP), above_scale=True)


def epa_aqi(concentrations: Mapping[str, float]) -> Index | None:
    """US EPA AQI (2024 breakpoints) of PM2.5/PM10; None when neither is given."""
    subs = {p: epa_sub_index(p, c) for p, c in concentrations.items() if p in _EPA_TABLES}
    if not subs:
        return None
    dominant = max(subs, key=lambda p: subs[p].value)
    value = min(round_half_up(subs[dominant].value), TOP)
    return Index(
        value=value,
        dominant=dominant,
        category=category(value, EPA_CATEGORIES),
        sub_indices={p: s.value for p, s in subs.items()},
        above_scale=any(s.above_scale for s in subs.values()),
    )
