"""Vietnamese air and water standards and the US EPA AQI, as data: every threshold cites its source.

The API computes indices and compliance from these tables; dashboards reuse them for colours and thresholds.
Values marked UNCONFIRMED could not be read from a primary source: they are kept, flagged `confirmed=False`,
and the API says so next to any status computed from them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from types import MappingProxyType

SOURCES: Mapping[str, str] = MappingProxyType(
    {
        "QD1459": (
            "Quyết định 1459/QĐ-TCMT (12/11/2019) of Tổng cục Môi trường, technical guidance on computing and "
            "publishing the Vietnam Air Quality Index (VN_AQI); replaces Quyết định 878/QĐ-TCMT (2011)"
        ),
        "QCVN05:2023": "QCVN 05:2023/BTNMT ambient air quality, Thông tư 01/2023/TT-BTNMT, effective 12/09/2023",
        "QCVN08:2023": "QCVN 08:2023/BTNMT surface water quality, Thông tư 01/2023/TT-BTNMT, effective 12/09/2023",
        "QCVN01-1:2018": "QCVN 01-1:2018/BYT domestic clean water, Thông tư 41/2018/TT-BYT (14/12/2018), group A",
        "EPA2024": "US EPA Technical Assistance Document EPA-454/B-24-002 (May 2024), Table 6 breakpoints",
        "EPA-NOWCAST": "US EPA 'PM NowCast' fact sheet: weight = min/max, floored at 0.5, normalised",
    }
)

# --- VN_AQI (QĐ 1459/QĐ-TCMT) -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AqiCategory:
    """A band of an AQI scale with its label and the colour the regulation prescribes."""

    low: int
    high: int
    label_vi: str
    label_en: str
    rgb: tuple[int, int, int]

    @property
    def hex(self) -> str:
        """`#rrggbb`, for web pages and Grafana thresholds."""
        return "#" + "".join(f"{c:02x}" for c in self.rgb)


VN_AQI_CATEGORIES: tuple[AqiCategory, ...] = (
    # QĐ 1459 Bảng 1 (colours confirmed by the CEM announcement of 13/11/2019).
    AqiCategory(0, 50, "Tốt", "Good", (0, 228, 0)),
    AqiCategory(51, 100, "Trung bình", "Moderate", (255, 255, 0)),
    AqiCategory(101, 150, "Kém", "Poor", (255, 126, 0)),
    AqiCategory(151, 200, "Xấu", "Bad", (255, 0, 0)),
    AqiCategory(201, 300, "Rất xấu", "Very bad", (143, 63, 151)),
    AqiCategory(301, 500, "Nguy hại", "Hazardous", (126, 0, 35)),
)

VN_AQI_INDEX: tuple[int, ...] = (0, 50, 100, 150, 200, 300, 400, 500)
"""QĐ 1459 Bảng 2, column Ii: the index value at each breakpoint BPi."""

VN_AQI_BREAKPOINTS: Mapping[str, tuple[float, ...]] = MappingProxyType(
    {
        # QĐ 1459 Bảng 2, concentrations in µg/m³ at BP1..BP8 (the table is continuous: band i is [BPi, BPi+1]).
        # O3 8-h stops at index 300: the decision gives no BP7/BP8 for it.
        "o3_1h": (0, 160, 200, 300, 400, 800, 1000, 1200),
        "o3_8h": (0, 100, 120, 170, 210, 400),
        "co": (0, 10_000, 30_000, 45_000, 60_000, 90_000, 120_000, 150_000),
        "so2": (0, 125, 350, 550, 800, 1600, 2100, 2630),
        "no2": (0, 100, 200, 700, 1200, 2350, 3100, 3850),
        "pm10": (0, 50, 150, 250, 350, 420, 500, 600),
        "pm25": (0, 25, 50, 80, 150, 250, 350, 500),
    }
)

VN_AQI_NOWCAST_HOURS = 12
"""QĐ 1459 Công thức 2: Nowcast of PM uses the hourly means c1 (current hour) … c12 (12 hours ago)."""
VN_AQI_NOWCAST_MIN_RECENT = 2
"""QĐ 1459: Nowcast needs at least 2 of c1, c2, c3."""
VN_AQI_NOWCAST_MIN_WEIGHT = 0.5
"""QĐ 1459: w* = Cmin/Cmax; w = 1/2 when w* ≤ 1/2, and then Nowcast = Σ (1/2)^i·ci, not normalised."""

VN_AQI_HEALTH_VI: tuple[str, ...] = (
    # QĐ 1459 Bảng 4, abridged, one line per band of VN_AQI_CATEGORIES.
    "Chất lượng không khí tốt, không ảnh hưởng tới sức khỏe",
    "Chất lượng không khí ở mức chấp nhận được; nhóm nhạy cảm có thể bị ảnh hưởng",
    "Nhóm nhạy cảm có thể gặp vấn đề về sức khỏe",
    "Những người bình thường bắt đầu có các ảnh hưởng tới sức khỏe",
    "Cảnh báo hưởng tới sức khỏe: mọi người bị ảnh hưởng tới sức khỏe nghiêm trọng hơn",
    "Cảnh báo khẩn cấp về sức khỏe: toàn bộ dân số bị ảnh hưởng",
)

# --- US EPA AQI (2024 revision), shown beside VN_AQI for comparison ----------------------------------------


@dataclass(frozen=True, slots=True)
class EpaBand:
    """One row of EPA's breakpoint table: concentrations [c_low, c_high] map to indices [i_low, i_high]."""

    c_low: float
    c_high: float
    i_low: int
    i_high: int


EPA_PM25_24H: tuple[EpaBand, ...] = (
    # EPA-454/B-24-002 Table 6 (PM2.5 revised 2024), µg/m³, 24-h; concentrations truncated to 0.1.
    EpaBand(0.0, 9.0, 0, 50),
    EpaBand(9.1, 35.4, 51, 100),
    EpaBand(35.5, 55.4, 101, 150),
    EpaBand(55.5, 125.4, 151, 200),
    EpaBand(125.5, 225.4, 201, 300),
    EpaBand(225.5, 325.4, 301, 500),
)
EPA_PM10_24H: tuple[EpaBand, ...] = (
    # EPA-454/B-24-002 Table 6 (PM10 unchanged in 2024), µg/m³, 24-h; concentrations truncated to integers.
    EpaBand(0, 54, 0, 50),
    EpaBand(55, 154, 51, 100),
    EpaBand(155, 254, 101, 150),
    EpaBand(255, 354, 151, 200),
    EpaBand(355, 424, 201, 300),
    EpaBand(425, 604, 301, 500),
)
EPA_CATEGORIES: tuple[AqiCategory, ...] = (
    # EPA-454/B-24-002 Table 2; UNCONFIRMED: the RGB codes were read from implementations, not the TAD.
    AqiCategory(0, 50, "Tốt", "Good", (0, 228, 0)),
    AqiCategory(51, 100, "Trung bình", "Moderate", (255, 255, 0)),
    AqiCategory(101, 150, "Không tốt cho nhóm nhạy cảm", "Unhealthy for Sensitive Groups", (255, 126, 0)),
    AqiCategory(151, 200, "Không tốt cho sức khỏe", "Unhealthy", (255, 0, 0)),
    AqiCategory(201, 300, "Rất không tốt cho sức khỏe", "Very Unhealthy", (143, 63, 151)),
    AqiCategory(301, 500, "Nguy hại", "Hazardous", (126, 0, 35)),
)
EPA_NOWCAST_MIN_WEIGHT = 0.5
"""EPA NowCast: weight factor min/max, floored at 0.5, always normalised by the sum of weights [EPA-NOWCAST]."""

# --- QCVN limits -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Limit:
    """A limit of a national technical regulation for one quantity of the catalogue.

    `low`/`high` bound the compliant range (either may be None); `averaging` says over what the value is taken.
    """

    regulation: str
    quantity: str
    unit: str
    averaging: str
    low: float | None = None
    high: float | None = None
    valid_from: date | None = None
    valid_until: date | None = None
    confirmed: bool = True
    note: str = ""

    def applies_on(self, day: date) -> bool:
        """Whether this limit is in force on `day`."""
        return (self.valid_from is None or day >= self.valid_from) and (
            self.valid_until is None or day < self.valid_until
        )

    def complies(self, value: float) -> bool:
        """Whether `value` lies inside the compliant range."""
        return (self.low is None or value >= self.low) and (self.high is None or value <= self.high)


_PM25_45_FROM = date(2026, 1, 1)

QCVN_05_2023: tuple[Limit, ...] = (
    # QCVN 05:2023/BTNMT Bảng 1 (µg/Nm³ at 25 °C, 760 mmHg; ambient air only, not indoor air).
    Limit("QCVN05:2023", "pm25", "µg/m³", "24h", high=50, valid_until=_PM25_45_FROM, note="50 µg/Nm³ until 2025"),
    Limit("QCVN05:2023", "pm25", "µg/m³", "24h", high=45, valid_from=_PM25_45_FROM, note="45 µg/Nm³ from 2026"),
    Limit("QCVN05:2023", "pm10", "µg/m³", "24h", high=100),
)

QCVN_01_1_2018: tuple[Limit, ...] = (
    # QCVN 01-1:2018/BYT group A. A 2024 revision (pH 6.5–8.5) is UNCONFIRMED and therefore not applied.
    Limit("QCVN01-1:2018", "ph", "pH", "sample", low=6.0, high=8.5),
    Limit("QCVN01-1:2018", "turbidity", "NTU", "sample", high=2),
)

WATER_CLASSES: tuple[str, ...] = ("A", "B", "C", "D")
"""QCVN 08:2023 Bảng 2 levels for rivers, streams and canals, best (A) to worst (D)."""

QCVN_08_2023: tuple[Limit, ...] = (
    # QCVN 08:2023/BTNMT Bảng 2 (rivers, streams, canals); a value outside class C's range is class D.
    # The table was read from an English translation; DO for class A was hidden (lake table shows ≥ 6.0).
    Limit("QCVN08:2023", "ph", "pH", "sample", low=6.5, high=8.5, note="A"),
    Limit("QCVN08:2023", "ph", "pH", "sample", low=6.0, high=8.5, note="B"),
    Limit("QCVN08:2023", "ph", "pH", "sample", low=6.0, high=8.5, note="C"),
    Limit("QCVN08:2023", "do", "mg/L", "sample", low=6.0, confirmed=False, note="A"),
    Limit("QCVN08:2023", "do", "mg/L", "sample", low=5.0, note="B"),
    Limit("QCVN08:2023", "do", "mg/L", "sample", low=4.0, note="C"),
)
"""`note` holds the class the range admits; turbidity is not classified (QCVN 08:2023 uses TSS, not NTU)."""
