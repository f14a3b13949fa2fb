"""Regulatory limits and index bands the dashboards and alerts colour by, each with its source.

Copied from the project's domain notes (standards.md) until the shared `devices/standards.py` lands; the names
below are the only place dashboards read these numbers, so switching to it is a one-module change.
"""

from __future__ import annotations

from datetime import date

SOURCES = {
    "QD1459": "Quyết định 1459/QĐ-TCMT (12/11/2019), VN_AQI: Bảng 1 categories and colours, Bảng 2 breakpoints",
    "QCVN05:2023": "QCVN 05:2023/BTNMT ambient air (Thông tư 01/2023/TT-BTNMT), Bảng 1, 24-h means in µg/Nm³",
    "QCVN08:2023": "QCVN 08:2023/BTNMT surface water, Bảng 2 levels A/B/C/D (read from an English translation)",
    "QCVN01-1:2018": "QCVN 01-1:2018/BYT domestic clean water (Thông tư 41/2018/TT-BYT), group A parameters",
    "S14": "Li-ion cells: nominal 3.6 V, full 4.2 V, cut-off 2.5-3.0 V (Battery University BU-303 et al.)",
    "S35": "Saxton & Rawls 2006 loam example: wilting point 13.8 %, field capacity 32.1 %, saturation 48.2 %",
}

# --- air: QCVN 05:2023/BTNMT -------------------------------------------------------------------------------

PM25_24H_LIMIT_UNTIL_2025 = 50.0
PM25_24H_LIMIT_FROM_2026 = 45.0
PM25_STRICTER_FROM = date(2026, 1, 1)
"""QCVN 05:2023 Bảng 1: PM2.5 24-h 50 µg/Nm³; (*) 45 µg/Nm³ applies from 01/01/2026."""
PM10_24H_LIMIT = 100.0
"""QCVN 05:2023 Bảng 1: PM10 24-h mean 100 µg/Nm³."""


def pm25_24h_limit(on: date) -> float:
    """The PM2.5 24-hour limit of QCVN 05:2023 in force on `on`."""
    return PM25_24H_LIMIT_FROM_2026 if on >= PM25_STRICTER_FROM else PM25_24H_LIMIT_UNTIL_2025


# --- water: QCVN 08:2023/BTNMT and QCVN 01-1:2018/BYT ---------------------------------------------------------

PH_ALLOWED = (6.0, 8.5)
"""Both agree on 6.0-8.5: QCVN 01-1:2018 pH (group A) and QCVN 08:2023 levels B and C; outside is level D."""
PH_GOOD = (6.5, 8.5)
"""QCVN 08:2023 level A (good surface water)."""
DO_LEVEL_B = 5.0
DO_LEVEL_C = 4.0
"""QCVN 08:2023 dissolved oxygen, mg/L: level B ≥ 5.0, level C ≥ 4.0; below 4.0 is treated as level D."""

# --- VN_AQI: Quyết định 1459/QĐ-TCMT, in devices/standards.py (the API and the farmer page share it) ---------


# --- devices -----------------------------------------------------------------------------------------------

BATTERY_LOW_V = 3.4
"""Issue 7's alert level: a 1S Li-ion cell (nominal 3.6 V, cut-off 2.5-3.0 V [S14]) at 3.4 V is near empty, and
still above the catalogue's 3.3 V soft limit, which leaves days to replace it before data stops."""

# --- soil (indicative, loam) --------------------------------------------------------------------------------

SOIL_WILTING_POINT_PCT = 13.8
SOIL_FIELD_CAPACITY_PCT = 32.1
"""[S35] loam example; other soils differ, so these colour the soil-moisture panels as a guide only."""
