"""What a reading means for a farmer: a status level, a word and one line of advice, from sourced thresholds.

Every threshold is here, in one place, with its source. Where a number is our judgement rather than a standard,
the comment says so. The words themselves are in api/web/i18n.py under the keys returned here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from devices.quantities import QUANTITIES
from devices.standards import QCVN_01_1_2018, QCVN_08_2023, VN_AQI_CATEGORIES, AqiCategory

Level = Literal["ok", "warn", "bad", "none"]
"""Drawn as a shape and a word, never by colour alone: ok = circle with a tick, warn = triangle with "!",
bad = octagon with a cross, none = grey circle with "?" (no recent data)."""


@dataclass(frozen=True, slots=True)
class Verdict:
    """A status: `key` names its word (`{key}.word`) and advice (`{key}.advice`) in the strings."""

    level: Level
    key: str
    reasons: tuple[tuple[str, float], ...] = field(default=())
    """(quantity, value) pairs that decided a water verdict, shown beside it."""


NO_DATA = Verdict("none", "nodata")

# --- Soil moisture ---------------------------------------------------------------------------------------
# Saxton & Rawls (2006) loam example [S35 in devices/quantities.py]: permanent wilting point 13.8 % VWC, field
# capacity 32.1 %, saturation 48.2 %. Bình Dương's grey soils are often sandier than loam (lower numbers): these
# stand in until a field's own soil is known (judgement; change them here only).
WILTING_POINT_VWC = 13.8
FIELD_CAPACITY_VWC = 32.1
SATURATION_VWC = 48.2
ALLOWED_DEPLETION = 0.5
"""FAO Irrigation and Drainage Paper 56 (Allen et al. 1998), Table 22: the share p of the available water
(field capacity − wilting point) a crop can use before it suffers; p = 0.5 is the value FAO-56 gives as common
for many crops (its table spans about 0.3–0.7). Using one p for every field is our judgement."""
IRRIGATE_BELOW_VWC = FIELD_CAPACITY_VWC - ALLOWED_DEPLETION * (FIELD_CAPACITY_VWC - WILTING_POINT_VWC)
"""22.95 % VWC: below this, the readily available water is used up and the field should be watered."""


def soil_moisture(vwc: float | None) -> Verdict:
    """Irrigation advice from the volumetric water content (% VWC) of the root zone."""
    if vwc is None:
        return NO_DATA
    if vwc < WILTING_POINT_VWC:
        return Verdict("bad", "soil.very_dry")
    if vwc < IRRIGATE_BELOW_VWC:
        return Verdict("warn", "soil.dry")
    if vwc <= FIELD_CAPACITY_VWC:
        return Verdict("ok", "soil.moist")
    if vwc <= SATURATION_VWC:
        return Verdict("ok", "soil.wet")
    return Verdict("warn", "soil.saturated")


# --- Air (VN_AQI, QĐ 1459/QĐ-TCMT) -----------------------------------------------------------------------
AIR_LEVELS: tuple[Level, ...] = ("ok", "ok", "warn", "bad", "bad", "bad")
"""Shape per VN_AQI band of Bảng 1 (Tốt … Nguy hại). Moderate air is "ok" with advice for sensitive people
(Bảng 5 lets everyone else act freely); from Kém on people are advised to change what they do (judgement)."""


def air_band(value: int) -> int:
    """Index (0 = Tốt … 5 = Nguy hại) of the VN_AQI band holding `value`."""
    return next((i for i, c in enumerate(VN_AQI_CATEGORIES) if value <= c.high), len(VN_AQI_CATEGORIES) - 1)


def air(value: int | None) -> Verdict:
    """Advice for a VN_AQI value; the one-line texts summarise QĐ 1459 Bảng 5 (full text in AIR_ADVICE_*)."""
    if value is None:
        return NO_DATA
    band = air_band(value)
    return Verdict(AIR_LEVELS[band], f"air.{band}")


def air_category(value: int) -> AqiCategory:
    """The Bảng 1 category (label and colour) of a VN_AQI value."""
    return VN_AQI_CATEGORIES[air_band(value)]


AIR_ADVICE_NORMAL_VI: tuple[str, ...] = (
    # QĐ 1459/QĐ-TCMT (12/11/2019) Bảng 5, "Khuyến nghị hoạt động cho những người bình thường", verbatim.
    "Tự do thực hiện các hoạt động ngoài trời.",
    "Tự do thực hiện các hoạt động ngoài trời.",
    (
        "Những người thấy có triệu chứng đau mắt, ho hoặc đau họng… nên cân nhắc giảm các hoạt động ngoài trời. "
        "Đối với học sinh, có thể hoạt động bên ngoài, nhưng nên giảm bớt việc tập thể dục kéo dài."
    ),
    (
        "Mọi người nên giảm các hoạt động mạnh khi ở ngoài trời, tránh tập thể dục kéo dài và nghỉ ngơi nhiều hơn "
        "trong nhà."
    ),
    (
        "Mọi người hạn chế tối đa các hoạt động ngoài trời và chuyển tất cả các hoạt động vào trong nhà. Nếu cần "
        "thiết phải ra ngoài, hãy đeo khẩu trang đạt tiêu chuẩn."
    ),
    (
        "Mọi người nên ở trong nhà, đóng cửa ra vào và cửa sổ. Nếu cần thiết phải ra ngoài, hãy đeo khẩu trang đạt "
        "tiêu chuẩn."
    ),
)
AIR_ADVICE_SENSITIVE_VI: tuple[str, ...] = (
    # QĐ 1459/QĐ-TCMT Bảng 5, "Khuyến nghị hoạt động cho nhóm người nhạy cảm", verbatim (the last row is one
    # merged cell for both groups).
    "Tự do thực hiện các hoạt động ngoài trời.",
    "Nên theo dõi các triệu chứng như ho hoặc khó thở, nhưng vẫn có thể hoạt động bên ngoài.",
    (
        "Nên giảm các hoạt động mạnh và giảm thời gian hoạt động ngoài trời. Những người mắc bệnh hen suyễn có thể "
        "cần sử dụng thuốc thường xuyên hơn."
    ),
    "Nên ở trong nhà và giảm hoạt động mạnh. Nếu cần thiết phải ra ngoài, hãy đeo khẩu trang đạt tiêu chuẩn.",
    "Nên ở trong nhà và giảm hoạt động mạnh.",
    (
        "Mọi người nên ở trong nhà, đóng cửa ra vào và cửa sổ. Nếu cần thiết phải ra ngoài, hãy đeo khẩu trang đạt "
        "tiêu chuẩn."
    ),
)
AIR_ADVICE_NORMAL_EN: tuple[str, ...] = (
    # Our translation of QĐ 1459 Bảng 5 (the Vietnamese text above is the authority).
    "Outdoor activities as usual.",
    "Outdoor activities as usual.",
    (
        "People with sore eyes, a cough or a sore throat should consider doing less outdoors. Pupils may go outside "
        "but should cut down long exercise."
    ),
    "Everyone should reduce strenuous outdoor activity, avoid long exercise and rest more indoors.",
    (
        "Everyone should keep outdoor activity to a minimum and move activities indoors. If you must go out, wear a "
        "certified mask."
    ),
    "Everyone should stay indoors with doors and windows shut. If you must go out, wear a certified mask.",
)
AIR_ADVICE_SENSITIVE_EN: tuple[str, ...] = (
    "Outdoor activities as usual.",
    "Watch for symptoms such as coughing or shortness of breath; outdoor activity is still fine.",
    "Reduce strenuous activity and time outdoors. People with asthma may need their medicine more often.",
    "Stay indoors and reduce strenuous activity. If you must go out, wear a certified mask.",
    "Stay indoors and reduce strenuous activity.",
    "Everyone should stay indoors with doors and windows shut. If you must go out, wear a certified mask.",
)
SENSITIVE_GROUPS_VI = "người già, trẻ em, người mắc các bệnh hô hấp, tim mạch"
"""QĐ 1459 Bảng 4 (51–100): who the sensitive group is."""


# --- Water -----------------------------------------------------------------------------------------------
_DRINKING = {lim.quantity: lim for lim in QCVN_01_1_2018}
"""QCVN 01-1:2018/BYT group A: pH 6.0–8.5, turbidity ≤ 2 NTU (domestic clean water)."""
_SURFACE_WORST_ADMITTED = {
    # QCVN 08:2023/BTNMT Bảng 2 (rivers, streams, canals): the widest range any class A–C admits; outside it the
    # water is class D, the worst (pH < 6.0 or > 8.5; DO < 4.0 mg/L).
    "ph": next(lim for lim in QCVN_08_2023 if lim.quantity == "ph" and lim.note == "C"),
    "do": next(lim for lim in QCVN_08_2023 if lim.quantity == "do" and lim.note == "C"),
}


def water(latest: Mapping[str, float]) -> Verdict:
    """Water status from a station's latest pH, dissolved oxygen and turbidity.

    bad: class D of QCVN 08:2023 (pH or DO outside every class A–C range). warn: not clean domestic water by
    QCVN 01-1:2018 (pH or turbidity), so it must be treated before use. ok: pH and turbidity within QCVN
    01-1:2018 — the sensors measure two of its parameters only, so the advice still says to boil drinking water.
    """
    measured = {q: v for q, v in latest.items() if q in ("ph", "do", "turbidity")}
    if not measured:
        return NO_DATA
    poor = tuple(
        (q, v)
        for q, v in measured.items()
        if q in _SURFACE_WORST_ADMITTED and not _SURFACE_WORST_ADMITTED[q].complies(v)
    )
    if poor:
        return Verdict("bad", "water.poor", poor)
    untreated = tuple((q, v) for q, v in measured.items() if q in _DRINKING and not _DRINKING[q].complies(v))
    if untreated:
        return Verdict("warn", "water.treat", untreated)
    if not all(q in measured for q in _DRINKING):
        return Verdict("warn", "water.partial")
    return Verdict("ok", "water.clean")


# --- Device health ---------------------------------------------------------------------------------------
LOW_BATTERY_V = QUANTITIES["bat"].soft_min
"""3.3 V: a 1S Li-ion cell below this is nearly empty [S14 in devices/quantities.py]."""
WEAK_SIGNAL_DBM = QUANTITIES["rssi"].soft_min
"""−80 dBm: Wi-Fi below this may not be usable [S15 in devices/quantities.py]."""


def battery_low(volts: float | None) -> bool:
    """Whether the board's battery needs charging or replacing soon."""
    return volts is not None and volts < LOW_BATTERY_V


def signal_weak(dbm: float | None) -> bool:
    """Whether the board's Wi-Fi signal is weak enough to lose messages."""
    return dbm is not None and dbm < WEAK_SIGNAL_DBM
