"""The quantity catalogue (DESIGN.md §4): canonical names, units and physical limits.

'Hard' limits are physically impossible for the sensor: the value is rejected. 'Soft' limits are plausible but
suspicious: the value is stored and flagged. Every number cites its source; the tags are listed in SOURCES.
Values marked "derived" were reasoned from the cited facts rather than read off a datasheet.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np
import numpy.typing as npt

SOURCES: Mapping[str, str] = MappingProxyType(
    {
        "S14": "Li-ion cell voltages: nominal 3.6 V, full 4.2 V, cut-off 2.5–3.0 V (Battery University BU-303 et al.)",
        "S15": "Wi-Fi RSSI: −30…−90 dBm usable, below −80 dBm may not be usable (speedguide.net FAQ 439)",
        "S22": "Ho Chi Minh City (Tân Sơn Nhất) WMO climate normals: records 13 °C / 41 °C",
        "S26": "Saigon River, Bình Dương stretch, 2000–2007: annual-mean pH 5.6–6.4, DO 2.1–5.0 mg/L",
        "S27": "Plantower PMS5003 manual V2.3: effective range 0–500 µg/m³, maximum ≥ 1000 µg/m³",
        "S28": "Sensirion SCD4x datasheet: CO2 output 0–40,000 ppm; T −10…60 °C; RH 0–100 %",
        "S30": "Dragino water-quality sensors: EC200 1–200,000 µS/cm, 0–70 PSU, probe −20…60 °C",
        "S31": "RS-485 turbidity probe AT-SB-PROBE-T-P: ranges up to 0–1000 NTU",
        "S32": "DO saturation per EN 25814: 14.6 mg/L at 0 °C, 8.26 at 25 °C, 7.56 at 30 °C",
        "S33": "RS485 soil probes (DFRobot SEN0605): −40…80 °C, 0–20,000 µS/cm, pH 3–9, NPK 0–2999 mg/kg",
        "S34": "SenseCAP S-Temp&VWC&EC-02: 0–100 % of saturation",
        "S35": "Saxton & Rawls 2006 loam example: wilting point 13.8 %, field capacity 32.1 %, saturation 48.2 %",
        "S37": "ESPHome docs: JSN-SR04T 25–600 cm; TSL2591 saturates at 88,000 lx",
        "BME280": "Bosch BME280 datasheet: pressure range 300–1100 hPa",
        "RAIN": "world-record 1-hour rainfall ≈ 305 mm (WMO archive): more in one reading interval is impossible",
    }
)


class Domain(enum.StrEnum):
    """What a quantity measures; also the InfluxDB measurement its field is written to."""

    WATER = "water"
    AIR = "air"
    AGRI = "agri"
    DEVICE = "device"


@dataclass(frozen=True, slots=True)
class Quantity:
    """One canonical quantity, with its unit and the limits that decide reject vs flag."""

    name: str
    domain: Domain
    unit: str
    hard_min: float
    hard_max: float
    soft_min: float = -math.inf
    soft_max: float = math.inf
    source: str = ""
    label_vi: str = ""
    label_en: str = ""


_W, _A, _G, _D = Domain.WATER, Domain.AIR, Domain.AGRI, Domain.DEVICE

CATALOGUE: tuple[Quantity, ...] = (
    # water
    Quantity(
        "ph",
        _W,
        "pH",
        0,
        14,
        5.5,
        9.0,
        "0–14 scale; soft derived, Saigon River 5.6–6.4 is normal [S26]",
        "Độ pH",
        "pH",
    ),
    Quantity(
        "turbidity",
        _W,
        "NTU",
        0,
        1000,
        source="probe range 0–1000 NTU [S31]",
        label_vi="Độ đục",
        label_en="Turbidity",
    ),
    Quantity(
        "do",
        _W,
        "mg/L",
        0,
        20,
        2.0,
        12.4,
        "hard derived ≈2.6× saturation at 30 °C [S32]; soft: < 2 hypoxic, > 1.5× saturation at 25 °C (derived)",
        "Oxy hòa tan",
        "Dissolved oxygen",
    ),
    Quantity(
        "ec",
        _W,
        "µS/cm",
        0,
        200_000,
        source="EC200 probe 1–200,000 µS/cm [S30]",
        label_vi="Độ dẫn điện",
        label_en="Conductivity",
    ),
    Quantity(
        "water_level",
        _W,
        "cm",
        0,
        600,
        source="JSN-SR04T ultrasonic range ≤ 600 cm [S37]",
        label_vi="Mực nước",
        label_en="Water level",
    ),
    Quantity(
        "water_temp",
        _W,
        "°C",
        0,
        60,
        source="EC probe range −20…60 °C; liquid water ≥ 0 °C [S30]",
        label_vi="Nhiệt độ nước",
        label_en="Water temperature",
    ),
    Quantity("salinity", _W, "PSU", 0, 70, source="EC200 0–70 PSU [S30]", label_vi="Độ mặn", label_en="Salinity"),
    # air
    Quantity(
        "pm25",
        _A,
        "µg/m³",
        0,
        1000,
        0,
        500,
        "PMS5003 max ≥ 1000, effective ≤ 500 µg/m³ [S27]",
        "Bụi PM2.5",
        "PM2.5",
    ),
    Quantity(
        "pm10",
        _A,
        "µg/m³",
        0,
        1000,
        0,
        500,
        "PMS5003 max ≥ 1000, effective ≤ 500 µg/m³ [S27]",
        "Bụi PM10",
        "PM10",
    ),
    Quantity(
        "co2",
        _A,
        "ppm",
        0,
        40_000,
        380,
        1000,
        "SCD4x output 0–40,000 ppm [S28]; soft outdoor 380–1000 ppm (derived)",
        "CO2",
        "CO2",
    ),
    Quantity(
        "air_temp",
        _A,
        "°C",
        -40,
        85,
        10,
        45,
        "hard derived from sensor ranges [S28][S33]; soft around HCMC records 13/41 °C [S22]",
        "Nhiệt độ không khí",
        "Air temperature",
    ),
    Quantity(
        "humidity",
        _A,
        "%RH",
        0,
        100,
        source="0–100 %RH [S28]",
        label_vi="Độ ẩm không khí",
        label_en="Humidity",
    ),
    Quantity(
        "pressure",
        _A,
        "hPa",
        300,
        1100,
        950,
        1050,
        "BME280 300–1100 hPa [BME280]; soft derived for a site near sea level",
        "Áp suất",
        "Pressure",
    ),
    # agriculture
    Quantity(
        "soil_moisture",
        _G,
        "% VWC",
        0,
        100,
        0,
        50,
        "0–100 % [S34]; soft > ~50 % is beyond saturation of loam (48.2 %) [S35]",
        "Độ ẩm đất",
        "Soil moisture",
    ),
    Quantity(
        "soil_temp",
        _G,
        "°C",
        -40,
        80,
        20,
        45,
        "probe −40…80 °C [S33]; soft derived",
        "Nhiệt độ đất",
        "Soil temperature",
    ),
    Quantity(
        "soil_ec",
        _G,
        "µS/cm",
        0,
        20_000,
        source="probe 0–20,000 µS/cm [S33]",
        label_vi="Độ dẫn điện đất",
        label_en="Soil conductivity",
    ),
    Quantity("soil_ph", _G, "pH", 3, 9, source="probe limits pH 3–9 [S33]", label_vi="pH đất", label_en="Soil pH"),
    Quantity(
        "soil_n",
        _G,
        "mg/kg",
        0,
        2999,
        source="NPK probe 0–2999 mg/kg, indicative only [S33]",
        label_vi="Đạm (N)",
        label_en="Nitrogen (N)",
    ),
    Quantity(
        "soil_p",
        _G,
        "mg/kg",
        0,
        2999,
        source="NPK probe 0–2999 mg/kg, indicative only [S33]",
        label_vi="Lân (P)",
        label_en="Phosphorus (P)",
    ),
    Quantity(
        "soil_k",
        _G,
        "mg/kg",
        0,
        2999,
        source="NPK probe 0–2999 mg/kg, indicative only [S33]",
        label_vi="Kali (K)",
        label_en="Potassium (K)",
    ),
    Quantity(
        "rain",
        _G,
        "mm",
        0,
        400,
        source="rain in the reading interval; hard max derived [RAIN]",
        label_vi="Lượng mưa",
        label_en="Rain",
    ),
    Quantity(
        "lux",
        _G,
        "lx",
        0,
        88_000,
        source="TSL2591 saturates at 88,000 lx [S37]",
        label_vi="Ánh sáng",
        label_en="Light",
    ),
    Quantity(
        "leaf_wetness",
        _G,
        "%",
        0,
        100,
        source="a percentage (no datasheet researched)",
        label_vi="Độ ướt lá",
        label_en="Leaf wetness",
    ),
    # device health
    Quantity(
        "bat",
        _D,
        "V",
        2.0,
        4.35,
        3.3,
        math.inf,
        "1S Li-ion: hard derived < 2.0 or > 4.35 V; soft < 3.3 V low [S14]",
        "Pin",
        "Battery",
    ),
    Quantity(
        "rssi",
        _D,
        "dBm",
        -120,
        -1,
        -80,
        math.inf,
        "reject ≥ 0 or < −120 dBm; soft < −80 dBm may not be usable [S15]",
        "Sóng Wi-Fi",
        "Wi-Fi signal",
    ),
)

QUANTITIES: Mapping[str, Quantity] = MappingProxyType({q.name: q for q in CATALOGUE})
QUANTITY_INDEX: Mapping[str, int] = MappingProxyType({q.name: i for i, q in enumerate(CATALOGUE)})
DOMAINS: tuple[Domain, ...] = tuple(Domain)


def _column(attribute: str) -> npt.NDArray[np.float64]:
    column = np.array([getattr(q, attribute) for q in CATALOGUE], dtype=np.float64)
    column.setflags(write=False)
    return column


# Lookup tables indexed by QUANTITY_INDEX, so validation is one fancy-index per batch.
HARD_MIN = _column("hard_min")
HARD_MAX = _column("hard_max")
SOFT_MIN = _column("soft_min")
SOFT_MAX = _column("soft_max")
DOMAIN_OF: npt.NDArray[np.int8] = np.array([DOMAINS.index(q.domain) for q in CATALOGUE], dtype=np.int8)
DOMAIN_OF.setflags(write=False)

# Suspicious patterns: stored, but flagged (derived rules, not datasheet values).
SPIKE_FRACTION = 0.25
"""A spike is a jump from the previous reading of the same sensor larger than this share of its physical range."""
SPIKE_WINDOW_MS = 15 * 60 * 1000
"""Only readings at most this far apart are compared; after a longer silence any change is plausible."""
SPIKE_EXEMPT = frozenset({"rain", "lux", "leaf_wetness"})
"""Rain starts, clouds pass and dew forms in one reading interval: big steps are normal for these."""
STUCK_RUN: Mapping[str, int] = MappingProxyType(
    {
        **{q.name: 10 for q in CATALOGUE},
        # Sensors with 1-unit resolution repeat values honestly in clean, stable air.
        "pm25": 30,
        "pm10": 30,
        "co2": 30,
        # Values that sit still for hours: rain 0 all dry season, light 0 at night, humidity 100 %RH in rain,
        # a full battery at 4.2 V, integer dBm, NPK probes of 1 mg/kg resolution read every few hours.
        **dict.fromkeys(("rain", "lux", "leaf_wetness", "humidity", "bat", "rssi", "soil_n", "soil_p", "soil_k"), 0),
    }
)
"""A sensor is stuck when it repeats exactly the same value this many times in a row (0: never checked)."""

SPIKE_DELTA = np.array(
    [math.inf if q.name in SPIKE_EXEMPT else SPIKE_FRACTION * (q.hard_max - q.hard_min) for q in CATALOGUE],
    dtype=np.float64,
)
SPIKE_DELTA.setflags(write=False)
STUCK_AFTER = np.array([STUCK_RUN[q.name] or np.iinfo(np.int32).max for q in CATALOGUE], dtype=np.int32)
"""Run length from which a repeated value is flagged, per catalogue index (int32 max: never)."""
STUCK_AFTER.setflags(write=False)


def quantities_of(domain: Domain) -> tuple[Quantity, ...]:
    """Every quantity written to the measurement of `domain`, in catalogue order."""
    return tuple(q for q in CATALOGUE if q.domain is domain)
