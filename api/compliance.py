"""QCVN status of a village's readings: air against QCVN 05:2023, water against QCVN 01-1:2018 and 08:2023.

Air limits are 24-hour means, so each air station's mean of the last local day is compared. Water limits apply
to samples; we compare the window's mean and also say whether any reading of the window fell outside.
Turbidity is not classified under QCVN 08:2023, which uses TSS (a site NTU→TSS calibration would be needed).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from api.summary import StationPm, Window
from devices.standards import QCVN_01_1_2018, QCVN_05_2023, QCVN_08_2023, SOURCES, WATER_CLASSES, Limit

REGULATION_NAMES = {
    "QCVN05:2023": "QCVN 05:2023/BTNMT",
    "QCVN01-1:2018": "QCVN 01-1:2018/BYT",
    "QCVN08:2023": "QCVN 08:2023/BTNMT",
}


def _bounds(limit: Limit) -> dict[str, float]:
    return {k: v for k, v in (("low", limit.low), ("high", limit.high)) if v is not None}


def _entry(limit: Limit, **facts: object) -> dict[str, Any]:
    return {
        "regulation": REGULATION_NAMES[limit.regulation],
        "source": SOURCES[limit.regulation],
        "quantity": limit.quantity,
        "unit": limit.unit,
        "averaging": limit.averaging,
        "limit": _bounds(limit),
        "confirmed": limit.confirmed,
        **facts,
    }


def air_compliance(stations: list[StationPm], window: Window) -> list[dict[str, Any]]:
    """QCVN 05:2023 24-h limits in force on the summarised day, against each station's daily mean (worst shown)."""
    day = date.fromisoformat(window.day)
    entries = []
    for limit in (lim for lim in QCVN_05_2023 if lim.applies_on(day)):
        values = [(s.daily[limit.quantity], s.device) for s in stations if limit.quantity in s.daily]
        if not values:
            entries.append(_entry(limit, day=window.day, value=None, station=None, status="no_data"))
            continue
        value, device = max(values)
        status = "compliant" if limit.complies(value) else "exceeds"
        entries.append(_entry(limit, day=window.day, value=round(value, 2), station=device, status=status))
    return entries


def water_compliance(stats: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """QCVN 01-1:2018 (domestic water) status and QCVN 08:2023 class (surface water) of the window's means."""
    entries = []
    for limit in QCVN_01_1_2018:
        found = stats.get(limit.quantity)
        if found is None:
            entries.append(_entry(limit, value=None, status="no_data"))
            continue
        mean = float(found["mean"])
        all_inside = limit.complies(float(found["min"])) and limit.complies(float(found["max"]))
        status = "compliant" if limit.complies(mean) else "exceeds"
        entries.append(_entry(limit, value=round(mean, 3), status=status, all_readings_inside=all_inside))
    for quantity in sorted({lim.quantity for lim in QCVN_08_2023}):
        found = stats.get(quantity)
        if found is None:
            continue
        mean = float(found["mean"])
        limits = [lim for lim in QCVN_08_2023 if lim.quantity == quantity]
        admitting = next((lim for lim in limits if lim.complies(mean)), None)
        water_class = admitting.note if admitting else WATER_CLASSES[-1]
        confirmed = admitting.confirmed if admitting else all(lim.confirmed for lim in limits)
        entries.append(
            {
                "regulation": REGULATION_NAMES["QCVN08:2023"],
                "source": SOURCES["QCVN08:2023"],
                "quantity": quantity,
                "unit": limits[0].unit,
                "averaging": "window mean",
                "value": round(mean, 3),
                "class": water_class,
                "classes": {lim.note: _bounds(lim) for lim in limits},
                "confirmed": confirmed,
                "status": "classified",
            }
        )
    return entries
