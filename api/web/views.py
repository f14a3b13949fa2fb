"""What each page shows, read from InfluxDB with the API's own data access (fleet, summary, series).

Views hold numbers and verdicts, not words: the templates translate them, so one view serves both languages.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from api.auth import Principal
from api.conditions import Conditions
from api.fleet import DeviceState, Reading, device_states
from api.influx import InfluxReader
from api.routes.devices import flags_at
from api.series import SeriesQuery, read_series
from api.summary import StationPm, Window, station_indices, station_pm
from api.timeparams import DAY_MS, HOUR_MS, MINUTE_MS
from api.web import advice
from api.web.advice import Verdict
from api.web.sparkline import Sparkline, sparkline
from devices.quantities import QUANTITIES, Domain
from devices.registry import Registry
from devices.schema import TAG_DEVICE, TAG_VILLAGE, quote_identifier

SPARK_EVERY_MS = 15 * MINUTE_MS
SUMMED = frozenset({"rain"})
"""Quantities whose buckets add up (millimetres of rain per bucket), shown with their 24-hour total."""
"""96 buckets a day: enough shape for a phone's width, a few hundred bytes of SVG."""
_LEVEL_ORDER = {"bad": 3, "warn": 2, "ok": 1, "none": 0}
_HIDDEN_ON_CARDS = ("bat", "rssi")


@dataclass(frozen=True, slots=True)
class Scope:
    """Where a page reads: the reader, the registry, the caller's rights, the clock and the zone."""

    reader: InfluxReader
    registry: Registry
    caller: Principal
    now_ms: int
    zone: ZoneInfo
    offline_after_ms: int


@dataclass(frozen=True, slots=True)
class Air:
    """A village's (its worst station's) or one station's hourly VN_AQI, or the daily one when no hourly exists."""

    value: int
    band: int
    verdict: Verdict
    station: str
    dominant: str
    hourly: bool
    concentrations: dict[str, float]


@dataclass(frozen=True, slots=True)
class Water:
    """A water station's verdict from its latest readings."""

    verdict: Verdict
    station: str
    readings: dict[str, float]
    ts_ms: int | None


@dataclass
class Card:
    """One device as a line of a list: its main verdict and the notices a farmer must not miss."""

    state: DeviceState
    verdict: Verdict
    main: str | None
    fresh: bool
    battery_low: bool
    signal_weak: bool

    @property
    def id(self) -> str:
        return self.state.id

    @property
    def name(self) -> str:
        return self.state.name or self.state.id

    @property
    def main_reading(self) -> Reading | None:
        return self.state.readings.get(self.main) if self.main else None


@dataclass
class VillagePage:
    """A village: its air, water, today's rain and its devices (optionally only some of them)."""

    id: str
    name: str
    district: str | None
    air: Air | None
    water: Water | None
    rain_mm: float | None
    fields: list[Card]
    stations: list[Card]
    last_ms: int | None

    @property
    def online(self) -> int:
        return sum(1 for c in (*self.fields, *self.stations) if c.state.online)

    @property
    def total(self) -> int:
        return len(self.fields) + len(self.stations)


@dataclass
class Chart:
    """One quantity's latest value and its last 24 hours."""

    quantity: str
    reading: Reading
    line: Sparkline
    flags: list[str] = field(default_factory=list)

    @property
    def summed(self) -> bool:
        """Whether the line is of bucket totals (rain), labelled with its 24-hour total."""
        return self.quantity in SUMMED


@dataclass
class DevicePage:
    """A device with every latest value and its 24-hour lines."""

    card: Card
    village: str
    village_name: str
    charts: list[Chart]
    air: Air | None
    water: Water | None
    start_ms: int


def _fresh(reading: Reading | None, scope: Scope) -> bool:
    return reading is not None and scope.now_ms - reading.ts_ms <= scope.offline_after_ms


def _main_quantity(state: DeviceState) -> str | None:
    return {"agri": "soil_moisture", "water": "ph", "air": "pm25"}.get(state.kind or "")


def card(state: DeviceState, scope: Scope, air_by_station: dict[str, Air]) -> Card:
    """The card of a device: soil advice for fields, water status for water, VN_AQI for air stations."""
    main = _main_quantity(state)
    reading = state.readings.get(main) if main else None
    fresh = _fresh(reading, scope)
    verdict = advice.NO_DATA
    if state.kind == "agri" and reading is not None:
        verdict = advice.soil_moisture(reading.value)
    elif state.kind == "water":
        verdict = water_of(state).verdict
    elif state.kind == "air" and state.id in air_by_station:
        verdict = air_by_station[state.id].verdict
    return Card(
        state=state,
        verdict=verdict,
        main=main,
        fresh=fresh,
        battery_low=advice.battery_low(state.health("bat")),
        signal_weak=advice.signal_weak(state.health("rssi")),
    )


def water_of(state: DeviceState) -> Water:
    """The water verdict of a station's latest pH, DO and turbidity."""
    latest: dict[str, float] = {q: state.readings[q].value for q in ("ph", "turbidity", "do") if q in state.readings}
    times = [r.ts_ms for q, r in state.readings.items() if q in latest]
    return Water(advice.water(latest), state.id, latest, max(times, default=None))


def _air(indices: dict[str, Any]) -> Air | None:
    hourly = indices["vn_aqi"]["hourly"]
    index = hourly or indices["vn_aqi"]["daily"]
    if index is None:
        return None
    value = int(index["value"])
    concentrations = indices["nowcast"] if hourly else indices["daily_mean"]
    return Air(
        value=value,
        band=advice.air_band(value),
        verdict=advice.air(value),
        station=indices["device"],
        dominant=index["dominant"],
        hourly=hourly is not None,
        concentrations=dict(concentrations),
    )


def air_by_station(stations: Iterable[StationPm], window: Window) -> dict[str, Air]:
    """The VN_AQI of every air station that has enough recent data."""
    found = {}
    for station in stations:
        air = _air(station_indices(station, window))
        if air is not None:
            found[station.device] = air
    return found


async def rain_today(scope: Scope, village: str) -> float | None:
    """Millimetres of rain since local midnight: the mean of the village's gauges that reported today."""
    local = datetime.fromtimestamp(scope.now_ms / 1000, tz=scope.zone)
    midnight_ms = int(local.replace(hour=0, minute=0, second=0, microsecond=0).timestamp() * 1000)
    conditions = Conditions().scoped(scope.caller).equals(TAG_VILLAGE, village).between(midnight_ms, scope.now_ms + 1)
    query = (
        f"SELECT sum({quote_identifier('rain')}) FROM {quote_identifier(Domain.AGRI.value)}{conditions.where()} "
        f"GROUP BY {quote_identifier(TAG_DEVICE)}"
    )
    results = await scope.reader.query(query, conditions.params)
    totals = [float(s.values[0][1]) for s in (results[0] if results else ()) if s.values and s.values[0][1] is not None]
    return sum(totals) / len(totals) if totals else None


def _worst_water(states: Iterable[DeviceState], scope: Scope) -> Water | None:
    candidates = [
        water_of(s) for s in states if s.kind == "water" and any(_fresh(s.readings.get(q), scope) for q in ("ph", "do"))
    ]
    return max(candidates, key=lambda w: _LEVEL_ORDER[w.verdict.level], default=None)


async def village_page(scope: Scope, village: str, *, only: frozenset[str] | None = None) -> VillagePage:
    """Everything the village page shows; `only` keeps just those devices in the lists (a farmer's fields)."""
    window = Window.ending(scope.now_ms, window_ms=HOUR_MS, zone=scope.zone)
    states, stations, rain = await asyncio.gather(
        device_states(
            scope.reader,
            scope.registry,
            scope.caller,
            now_ms=scope.now_ms,
            offline_after_ms=scope.offline_after_ms,
            village=village,
        ),
        station_pm(scope.reader, window, caller=scope.caller, village=village),
        rain_today(scope, village),
    )
    airs = air_by_station(stations, window)
    worst_air = max(airs.values(), key=lambda a: a.value, default=None)
    shown = [s for s in states if only is None or s.id in only]
    cards = [card(s, scope, airs) for s in shown]
    entry = scope.registry.village(village)
    return VillagePage(
        id=village,
        name=entry.name if entry else village,
        district=entry.district if entry else None,
        air=worst_air,
        water=_worst_water(states, scope),
        rain_mm=rain,
        fields=[c for c in cards if c.state.kind == "agri"],
        stations=[c for c in cards if c.state.kind != "agri"],
        last_ms=max((s.last_seen_ms for s in states if s.last_seen_ms is not None), default=None),
    )


async def villages_overview(scope: Scope) -> list[VillagePage]:
    """Every village the caller may read, with its air and device counts (no rain or water: a short list)."""
    window = Window.ending(scope.now_ms, window_ms=HOUR_MS, zone=scope.zone)
    states, stations = await asyncio.gather(
        device_states(
            scope.reader, scope.registry, scope.caller, now_ms=scope.now_ms, offline_after_ms=scope.offline_after_ms
        ),
        station_pm(scope.reader, window, caller=scope.caller),
    )
    airs = air_by_station(stations, window)
    by_village: dict[str, list[DeviceState]] = {
        v.id: [] for v in scope.registry.villages if scope.caller.may_read(v.id)
    }
    for state in states:
        by_village.setdefault(state.village, []).append(state)
    pages = []
    for village_id, members in sorted(by_village.items()):
        entry = scope.registry.village(village_id)
        cards = [card(s, scope, airs) for s in members]
        village_airs = [airs[s.id] for s in members if s.id in airs]
        pages.append(
            VillagePage(
                id=village_id,
                name=entry.name if entry else village_id,
                district=entry.district if entry else None,
                air=max(village_airs, key=lambda a: a.value, default=None),
                water=_worst_water(members, scope),
                rain_mm=None,
                fields=[c for c in cards if c.state.kind == "agri"],
                stations=[c for c in cards if c.state.kind != "agri"],
                last_ms=max((s.last_seen_ms for s in members if s.last_seen_ms is not None), default=None),
            )
        )
    return pages


def _ms(cell: object) -> int:
    return int(cell) if isinstance(cell, int | float) else 0


def _value(cell: object) -> float | None:
    return float(cell) if isinstance(cell, int | float) else None


async def _line(scope: Scope, device: str, quantity: str, start_ms: int) -> Sparkline:
    query = SeriesQuery(
        quantity=QUANTITIES[quantity],
        agg="sum" if quantity in SUMMED else "mean",
        every_ms=SPARK_EVERY_MS,
        start_ms=start_ms,
        stop_ms=scope.now_ms,
        zone=scope.zone,
        fill="null",
        caller=scope.caller,
        device=device,
    )
    result = await read_series(scope.reader, query, "raw")
    points = [(_ms(row[0]), _value(row[1])) for _, rows in result.series for row in rows]
    return sparkline(points, start_ms=start_ms, stop_ms=scope.now_ms)


async def device_page(scope: Scope, state: DeviceState) -> DevicePage:
    """The device's card, each latest value with its 24-hour line and quality flags, and its own verdicts."""
    start_ms = scope.now_ms - DAY_MS
    start_ms -= start_ms % SPARK_EVERY_MS
    quantities = [q for q in state.readings if q not in _HIDDEN_ON_CARDS] + [
        q for q in _HIDDEN_ON_CARDS if q in state.readings
    ]
    window = Window.ending(scope.now_ms, window_ms=HOUR_MS, zone=scope.zone)
    lines, flags, stations = await asyncio.gather(
        asyncio.gather(*(_line(scope, state.id, q, start_ms) for q in quantities)),
        flags_at(scope.reader, scope.caller, state.id, {q: r.ts_ms for q, r in state.readings.items()}),
        station_pm(scope.reader, window, caller=scope.caller, village=state.village)
        if state.kind == "air"
        else asyncio.sleep(0, result=[]),
    )
    airs = air_by_station((s for s in stations if s.device == state.id), window)
    entry = scope.registry.village(state.village)
    return DevicePage(
        card=card(state, scope, airs),
        village=state.village,
        village_name=entry.name if entry else state.village,
        charts=[Chart(q, state.readings[q], line, flags.get(q, [])) for q, line in zip(quantities, lines, strict=True)],
        air=airs.get(state.id),
        water=water_of(state) if state.kind == "water" else None,
        start_ms=start_ms,
    )


async def device_state(scope: Scope, device: str, village: str) -> DeviceState | None:
    """The state of one device of `village` (None when it has neither data nor a registry entry there)."""
    states = await device_states(
        scope.reader,
        scope.registry,
        scope.caller,
        now_ms=scope.now_ms,
        offline_after_ms=scope.offline_after_ms,
        village=village,
    )
    return next((s for s in states if s.id == device), None)
