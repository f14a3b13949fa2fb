"""Numbers and times as people in Vietnam read them: decimal comma, dd/mm dates, Asia/Ho_Chi_Minh clocks.

English pages use a decimal point and thousands commas but keep the day-first dates and the local clock, since
the readers are in Bình Dương whatever language they read.
"""

from __future__ import annotations

import math
from datetime import datetime
from zoneinfo import ZoneInfo

from api.web.i18n import Lang, text

DECIMALS: dict[str, int] = {
    # How many decimals a farmer needs to see: what the sensor resolves, no more (a judgement per quantity).
    "ph": 1,
    "turbidity": 1,
    "do": 1,
    "ec": 0,
    "water_level": 0,
    "water_temp": 1,
    "salinity": 1,
    "pm25": 0,
    "pm10": 0,
    "co2": 0,
    "air_temp": 1,
    "humidity": 0,
    "pressure": 0,
    "soil_moisture": 1,
    "soil_temp": 1,
    "soil_ec": 0,
    "soil_ph": 1,
    "soil_n": 0,
    "soil_p": 0,
    "soil_k": 0,
    "rain": 1,
    "lux": 0,
    "leaf_wetness": 0,
    "bat": 2,
    "rssi": 0,
}

DISPLAY_UNITS: dict[str, str] = {"soil_moisture": "%", "humidity": "%", "ph": "", "soil_ph": ""}
"""Units shown to farmers where the catalogue's unit is jargon (% VWC, %RH); the value is the same."""

MINUS = "\u2212"


def number(value: float, lang: Lang, *, decimals: int = 1) -> str:
    """`value` rounded to `decimals`: `1.008,2` in Vietnamese, `1,008.2` in English, a true minus sign."""
    if not math.isfinite(value):
        return "–"
    rounded = round(value, decimals)
    if rounded == 0:
        rounded = 0.0  # no "−0"
    text_ = f"{abs(rounded):,.{decimals}f}"
    if lang == "vi":
        text_ = text_.replace(",", "\0").replace(".", ",").replace("\0", ".")
    return (MINUS if rounded < 0 else "") + text_


def quantity_value(name: str, value: float, lang: Lang) -> str:
    """A reading with the decimals that suit its quantity."""
    return number(value, lang, decimals=DECIMALS.get(name, 1))


def clock(ts_ms: int, zone: ZoneInfo) -> str:
    """`14:05 30/11`: the local time and day of an instant."""
    local = datetime.fromtimestamp(ts_ms / 1000, tz=zone)
    return local.strftime("%H:%M %d/%m")


def day_month(ts_ms: int, zone: ZoneInfo) -> str:
    """`30/11/2026`: the local date of an instant."""
    return datetime.fromtimestamp(ts_ms / 1000, tz=zone).strftime("%d/%m/%Y")


def ago(ts_ms: int, now_ms: int, lang: Lang) -> str:
    """How long ago, in the words a person uses: `vừa xong`, `5 phút trước`, `2 giờ trước`, `3 ngày trước`."""
    minutes = max(now_ms - ts_ms, 0) // 60_000
    if minutes < 1:
        return text(lang, "ago.now")
    if minutes < 60:
        return text(lang, "ago.minutes").format(n=minutes)
    if minutes < 48 * 60:
        return text(lang, "ago.hours").format(n=minutes // 60)
    return text(lang, "ago.days").format(n=minutes // (24 * 60))
