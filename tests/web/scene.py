"""A day in two communes, designed to show every state the farmer pages must explain.

Phú An: poor air (PM2.5 around 62 µg/m³ → VN_AQI "Kém"), canal water short of oxygen (QCVN 08:2023 class D),
a dry field (farmer An), a moist field and a field board that went silent two hours ago with a low battery
(farmer Bình). An Tây: clean air and a moist field. Values are seeded random walks around those levels, so the
tests compute what the pages must say from the samples themselves (the ground truth), never from constants.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from devices.payload import Telemetry
from devices.registry import RegisteredDevice, Registry, Village

INTERVAL_MS = 10 * 60_000
HOURS = 30
SILENT_MS = 2 * 3600_000
"""phu-an-agri-03 stops sending this long before the end: offline on the pages."""

VILLAGES = (
    Village(id="phu-an", name="Phú An", district="Bến Cát", lat=11.048, lon=106.583),
    Village(id="an-tay", name="An Tây", district="Bến Cát", lat=11.105, lon=106.536),
    Village(id="thuong-tan", name="Thường Tân", district="Bắc Tân Uyên", lat=11.092, lon=106.85),  # no boards yet
)


def _device(device_id: str, kind: str, name: str, village: str = "phu-an") -> RegisteredDevice:
    return RegisteredDevice.model_validate(
        {"id": device_id, "village": village, "kind": kind, "name": name, "lat": 11.05, "lon": 106.58}
    )


DEVICES = (
    _device("phu-an-air-01", "air", "Trạm không khí chợ Phú An"),
    _device("phu-an-water-01", "water", "Trạm nước kênh Bà Lụa"),
    _device("phu-an-agri-01", "agri", "Ruộng lúa ông An"),
    _device("phu-an-agri-02", "agri", "Vườn tiêu bà Bình"),
    _device("phu-an-agri-03", "agri", "Ruộng rau bà Bình"),
    _device("an-tay-air-01", "air", "Trạm không khí An Tây", "an-tay"),
    _device("an-tay-agri-01", "agri", "Ruộng An Tây", "an-tay"),
)
REGISTRY = Registry(villages=VILLAGES, devices=DEVICES)

# device: quantity → (level, noise sd, decimals)
LEVELS: dict[str, dict[str, tuple[float, float, int]]] = {
    "phu-an-air-01": {
        "pm25": (62.0, 4.0, 0),
        "pm10": (88.0, 6.0, 0),
        "co2": (430, 8, 0),
        "air_temp": (30.5, 0.4, 1),
        "humidity": (74, 2, 1),
    },
    "phu-an-water-01": {
        "ph": (6.9, 0.05, 2),
        "turbidity": (15.0, 1.5, 1),
        "do": (3.3, 0.15, 2),
        "water_temp": (29.0, 0.2, 1),
    },
    "phu-an-agri-01": {"soil_moisture": (19.0, 0.4, 1), "soil_temp": (29.0, 0.3, 1)},
    "phu-an-agri-02": {"soil_moisture": (28.5, 0.4, 1), "soil_temp": (28.5, 0.3, 1)},
    "phu-an-agri-03": {"soil_moisture": (35.0, 0.4, 1), "soil_temp": (28.0, 0.3, 1)},
    "an-tay-air-01": {"pm25": (12.0, 2.0, 0), "pm10": (22.0, 3.0, 0), "air_temp": (29.0, 0.4, 1)},
    "an-tay-agri-01": {"soil_moisture": (26.0, 0.4, 1), "soil_temp": (28.0, 0.3, 1)},
}
LOW_BATTERY = {"phu-an-agri-03": 3.21}
IMPLAUSIBLE_LAST = {"an-tay-agri-01": ("soil_moisture", 55.0)}
"""The last sample of this board is beyond the catalogue's soft limit (> 50 % VWC): stored, flagged soft_limit."""
RAIN_CHANCE = 0.08


@dataclass(frozen=True)
class Sample:
    """One sample as sent, for the ground truth."""

    device: RegisteredDevice
    telemetry: Telemetry


def samples(*, end_ms: int, seed: int = 6) -> list[Sample]:
    """Every sample of every device, oldest first per device, ending at `end_ms`."""
    rng = np.random.default_rng(seed)
    times = [end_ms - k * INTERVAL_MS for k in range(HOURS * 6 - 1, -1, -1)]
    found = []
    for seq_base, device in enumerate(DEVICES):
        levels = LEVELS[device.id]
        bat = LOW_BATTERY.get(device.id, 4.02)
        for k, ts in enumerate(times):
            if device.id == "phu-an-agri-03" and ts > end_ms - SILENT_MS:
                break
            readings = {q: round(level + float(rng.normal(0, sd)), d) for q, (level, sd, d) in levels.items()}
            if device.id in IMPLAUSIBLE_LAST and k == HOURS * 6 - 1:
                quantity, value = IMPLAUSIBLE_LAST[device.id]
                readings[quantity] = value
            if device.kind == "agri":
                readings["rain"] = round(float(rng.exponential(1.5)), 1) if rng.random() < RAIN_CHANCE else 0.0
            telemetry = Telemetry(ts=ts, seq=seq_base * 10_000 + k, bat=bat, rssi=-63.0, readings=readings)
            found.append(Sample(device, telemetry))
    return found


FARMERS_TOML_ROWS = (
    # (id, name, devices)
    ("nguyen-van-an", "Nguyễn Văn An", ("phu-an-agri-01",)),
    ("tran-thi-binh", "Trần Thị Bình", ("phu-an-agri-02", "phu-an-agri-03")),
)
