"""A board's single Li-ion cell: drained by the ESP32, charged by a small solar panel, browning out when empty.

Open-circuit voltage follows a typical 18650 discharge curve (4.2 V full, 3.6–3.7 V nominal, 3.0 V cut-off;
Battery University BU-303). An ESP32 behind a 3.3 V LDO browns out when the cell sags below about 3.2 V
(derived; unverified) and only restarts once the panel has brought the cell back up (hysteresis).
"""

from __future__ import annotations

import bisect
import enum
from dataclasses import dataclass

_SOC_POINTS = (0.0, 0.05, 0.10, 0.20, 0.30, 0.40, 0.50, 0.60, 0.70, 0.80, 0.90, 1.0)
_OCV_POINTS = (3.00, 3.30, 3.45, 3.58, 3.66, 3.72, 3.77, 3.82, 3.88, 3.96, 4.06, 4.20)

BROWNOUT_V = 3.2
RESTART_V = 3.5
_LOAD_SAG_V = 0.04
_MAINS_FLOAT_V = 4.12
_HOUR_MS = 3_600_000


class Supply(enum.StrEnum):
    """Where a board's energy comes from."""

    SOLAR = "solar"
    BATTERY = "battery"
    MAINS = "mains"


@dataclass
class Battery:
    """State of charge of one cell, advanced in steps by the board's own schedule."""

    supply: Supply
    capacity_mah: float
    load_ma: float
    panel_ma: float
    soc: float

    def advance(self, duration_ms: int, *, sun: float) -> None:
        """Drain for `duration_ms`; `sun` is the mean share of full clear-sky sun on the panel meanwhile."""
        if self.supply is Supply.MAINS:
            self.soc = 1.0
            return
        charge_ma = self.panel_ma * sun if self.supply is Supply.SOLAR else 0.0
        delta_mah = (charge_ma - self.load_ma) * duration_ms / _HOUR_MS
        self.soc = min(max(self.soc + delta_mah / self.capacity_mah, 0.0), 1.0)

    @property
    def volts(self) -> float:
        """Terminal voltage under the board's load, as its ADC reads it."""
        if self.supply is Supply.MAINS:
            return _MAINS_FLOAT_V
        return _ocv(self.soc) - _LOAD_SAG_V

    @property
    def browned_out(self) -> bool:
        return self.volts < BROWNOUT_V

    @property
    def can_restart(self) -> bool:
        return self.volts >= RESTART_V


def _ocv(soc: float) -> float:
    """Open-circuit voltage at a state of charge (linear between the curve's points)."""
    i = min(bisect.bisect_right(_SOC_POINTS, soc), len(_SOC_POINTS) - 1)
    if i == 0:
        return _OCV_POINTS[0]
    x0, x1, y0, y1 = _SOC_POINTS[i - 1], _SOC_POINTS[i], _OCV_POINTS[i - 1], _OCV_POINTS[i]
    return y0 + (y1 - y0) * (min(soc, x1) - x0) / (x1 - x0)


def average_load_ma(*, deep_sleep: bool, interval_s: float, awake_s: float = 8.0) -> float:
    """Average current: Wi-Fi always on (modem sleep) ≈ 35 mA; deep sleep 10 µA between short wakes at 110 mA."""
    if not deep_sleep:
        return 35.0
    awake = min(awake_s, interval_s)
    return (110.0 * awake + 0.01 * (interval_s - awake)) / max(interval_s, 1e-3)
