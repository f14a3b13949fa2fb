"""A village's summary: statistics per quantity, VN_AQI and US EPA AQI, and QCVN status, from InfluxDB.

Indices are computed per air station and the village shows its worst station (what a resident near it
breathes). The hourly index uses the 12 complete hours before `stop` (c1 = the last complete hour); the daily
index uses the last complete local day before `stop` (QĐ 1459: hours 01:00 … 24:00, i.e. local 00:00–24:00).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from api.aqi import Index, epa_aqi, epa_nowcast, vn_aqi, vn_nowcast
from api.auth import Principal
from api.conditions import Conditions
from api.influx import InfluxReader
from api.timeparams import HOUR_MS, iso
from devices.quantities import CATALOGUE, Domain
from devices.schema import TAG_DEVICE, TAG_VILLAGE, quote_identifier
from devices.standards import SOURCES

PM = ("pm25", "pm10")
STATS = ("count", "min", "mean", "max", "p95")
INDICATIVE_NOTE = (
    "Chỉ số tham khảo: VN_AQI is defined for certified automatic monitoring stations (QĐ 1459/QĐ-TCMT §1.1); "
    "these low-cost village sensors give an indicative value only."
)


@dataclass(frozen=True, slots=True)
class Window:
    """The periods a summary covers, all [start, stop) in epoch ms."""

    start_ms: int
    stop_ms: int
    hours_start_ms: int
    hours_stop_ms: int
    day_start_ms: int
    day_stop_ms: int
    day: str

    @classmethod
    def ending(cls, stop_ms: int, *, window_ms: int, zone: ZoneInfo) -> Window:
        hours_stop = stop_ms - stop_ms % HOUR_MS
        local_stop = datetime.fromtimestamp(stop_ms / 1000, tz=zone)
        midnight = local_stop.replace(hour=0, minute=0, second=0, microsecond=0)
        day_start = (midnight - timedelta(days=1)).replace(tzinfo=zone)
        return cls(
            start_ms=stop_ms - window_ms,
            stop_ms=stop_ms,
            hours_start_ms=hours_stop - 12 * HOUR_MS,
            hours_stop_ms=hours_stop,
            day_start_ms=int(day_start.timestamp() * 1000),
            day_stop_ms=int(midnight.timestamp() * 1000),
            day=day_start.date().isoformat(),
        )


def _village(village: str, prefix: str = "p") -> Conditions:
    return Conditions(prefix).equals(TAG_VILLAGE, village)


async def quantity_stats(reader: InfluxReader, village: str, window: Window) -> dict[str, dict[str, Any]]:
    """count, min, mean, max and p95 (nearest rank, as InfluxQL's percentile) of every quantity with data."""
    conditions = _village(village).between(window.start_ms, window.stop_ms)
    statements = []
    for q in CATALOGUE:
        name = quote_identifier(q.name)
        statements.append(
            f'SELECT count({name}) AS "count", min({name}) AS "min", mean({name}) AS "mean", max({name}) AS "max", '
            f'percentile({name}, 95) AS "p95" FROM {quote_identifier(q.domain.value)}{conditions.where()}'
        )
    results = await reader.query(";".join(statements), conditions.params)
    stats: dict[str, dict[str, Any]] = {}
    for q, result in zip(CATALOGUE, results, strict=False):
        if result and result[0].values and result[0].values[0][1]:
            record = result[0].records()[0]
            stats[q.name] = {"unit": q.unit, **{s: record[s] for s in STATS}}
    return stats


@dataclass
class StationPm:
    """One air station's hourly means (c1 first) and daily means of PM2.5 and PM10."""

    device: str
    hourly: dict[str, list[float | None]]
    daily: dict[str, float]


async def station_pm(
    reader: InfluxReader, window: Window, *, caller: Principal, village: str | None = None
) -> list[StationPm]:
    """Hourly PM means of the 12 hours before stop and daily means of the last local day, per air station."""
    device = quote_identifier(TAG_DEVICE)
    hours = Conditions("h").scoped(caller)
    day = Conditions("d").scoped(caller)
    if village is not None:
        hours.equals(TAG_VILLAGE, village)
        day.equals(TAG_VILLAGE, village)
    hours.between(window.hours_start_ms, window.hours_stop_ms)
    day.between(window.day_start_ms, window.day_stop_ms)
    statements = []
    for pm in PM:
        air, name = quote_identifier(Domain.AIR.value), quote_identifier(pm)
        statements.append(f"SELECT mean({name}) FROM {air}{hours.where()} GROUP BY time(1h), {device} fill(null)")
        statements.append(f"SELECT mean({name}) FROM {air}{day.where()} GROUP BY {device}")
    results = await reader.query(";".join(statements), {**hours.params, **day.params})
    stations: dict[str, StationPm] = {}
    for index, result in enumerate(results):
        pm = PM[index // 2]
        for series in result:
            found = stations.setdefault(series.tags[TAG_DEVICE], StationPm(series.tags[TAG_DEVICE], {}, {}))
            if index % 2 == 0:
                found.hourly[pm] = [row[1] for row in reversed(series.values)][:12]
            elif series.values[0][1] is not None:
                found.daily[pm] = float(series.values[0][1])
    return [stations[k] for k in sorted(stations)]


def _index(index: Index | None, **extra: object) -> dict[str, Any] | None:
    if index is None:
        return None
    return {
        "value": index.value,
        "category": index.category.label_en,
        "category_vi": index.category.label_vi,
        "color": index.category.hex,
        "dominant": index.dominant,
        "sub_indices": {p: round(v, 2) for p, v in index.sub_indices.items()},
        "above_scale": index.above_scale,
        **extra,
    }


def station_indices(station: StationPm, window: Window) -> dict[str, Any]:
    """VN_AQI and US EPA AQI, hourly (Nowcast) and daily, of one station."""
    vn_now = {pm: vn_nowcast(station.hourly[pm]) for pm in PM if pm in station.hourly}
    epa_now = {pm: epa_nowcast(station.hourly[pm]) for pm in PM if pm in station.hourly}
    vn_now_present = {pm: c for pm, c in vn_now.items() if c is not None}
    epa_now_present = {pm: c for pm, c in epa_now.items() if c is not None}
    hour = {"start": iso(window.hours_stop_ms - HOUR_MS), "stop": iso(window.hours_stop_ms)}
    day = {"day": window.day}
    return {
        "device": station.device,
        "nowcast": {pm: round(c, 2) for pm, c in vn_now_present.items()},
        "daily_mean": {pm: round(c, 2) for pm, c in station.daily.items()},
        "vn_aqi": {
            "hourly": _index(vn_aqi(vn_now_present), **hour),
            "daily": _index(vn_aqi(station.daily), **day),
        },
        "us_epa_aqi": {
            "hourly": _index(epa_aqi(epa_now_present), **hour),
            "daily": _index(epa_aqi(station.daily), **day),
        },
    }


def _worst(stations: list[dict[str, Any]], scale: str, period: str) -> dict[str, Any] | None:
    candidates = [(s[scale][period], s["device"]) for s in stations if s[scale][period] is not None]
    if not candidates:
        return None
    index, device = max(candidates, key=lambda c: c[0]["value"])
    return {**index, "station": device}


def air_quality(stations: list[StationPm], window: Window) -> dict[str, Any]:
    """The village's indices (its worst station) and every station's own."""
    per_station = [station_indices(s, window) for s in stations]
    return {
        "vn_aqi": {
            "method": "VN_AQI per Quyết định 1459/QĐ-TCMT (Nowcast for hourly PM)",
            "source": SOURCES["QD1459"],
            "indicative": True,
            "note": INDICATIVE_NOTE,
            "hourly": _worst(per_station, "vn_aqi", "hourly"),
            "daily": _worst(per_station, "vn_aqi", "daily"),
        },
        "us_epa_aqi": {
            "method": "US EPA AQI, 2024 PM2.5 breakpoints (NowCast for hourly); for comparison only, not VN_AQI",
            "source": SOURCES["EPA2024"],
            "indicative": True,
            "hourly": _worst(per_station, "us_epa_aqi", "hourly"),
            "daily": _worst(per_station, "us_epa_aqi", "daily"),
        },
        "stations": per_station,
    }
