"""Devices: the registry joined with their last activity, and the latest value of each quantity of one device."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from api.auth import Principal
from api.clock import ClockDep
from api.conditions import device_filter
from api.deps import CallerDep, ReaderDep, RegistryDep, SettingsDep
from api.errors import ERROR_RESPONSES, Forbidden, NotFound
from api.fleet import DeviceState, device_states, latest_by_device
from api.influx import InfluxReader
from api.negotiate import CSV_MEDIA_TYPE, FormatQuery, csv_response, wants_csv
from api.params import DevicePath, VillageQuery
from api.responses import cached_json
from api.timeparams import iso
from devices.quantities import QUANTITIES
from devices.reasons import QualityFlag
from devices.registry import Registry
from devices.schema import QUALITY, TAG_DEVICE, TAG_QUANTITY, TAG_VILLAGE, quote_identifier

router = APIRouter(prefix="/api/v1", tags=["devices"], responses=ERROR_RESPONSES)


def _time(ms: int | None) -> str | None:
    return None if ms is None else iso(ms)


class DeviceOut(BaseModel):
    """A device as the registry describes it, with what InfluxDB last heard from it."""

    id: str = Field(examples=["phu-an-air-01"])
    village: str = Field(examples=["phu-an"])
    registered: bool = Field(description="false: the device sends data but has no registry entry")
    kind: str | None = Field(None, examples=["air"])
    name: str | None = Field(None, examples=["Trạm không khí 1 – Phú An"])
    lat: float | None = Field(None, examples=[11.0512])
    lon: float | None = Field(None, examples=[106.5793])
    installed: date | None = None
    owner: str | None = Field(None, examples=["UBND xã Phú An"])
    last_seen: datetime | None = Field(None, description="time of the latest reading of any quantity")
    last_seen_ms: int | None = Field(None, examples=[1764489600123])
    online: bool = Field(description="heard from within VILLAGE_API_OFFLINE_AFTER_S and not announced offline")
    battery_v: float | None = Field(None, examples=[3.91])
    rssi_dbm: float | None = Field(None, examples=[-67])


class DeviceList(BaseModel):
    count: int
    devices: list[DeviceOut]


DEVICE_COLUMNS = tuple(DeviceOut.model_fields)


def device_row(state: DeviceState) -> dict[str, Any]:
    """A device as a flat JSON object (the order of DEVICE_COLUMNS)."""
    last_seen = state.last_seen_ms
    return {
        "id": state.id,
        "village": state.village,
        "registered": state.registered,
        "kind": state.kind,
        "name": state.name,
        "lat": state.lat,
        "lon": state.lon,
        "installed": state.installed.isoformat() if state.installed else None,
        "owner": state.owner,
        "last_seen": _time(last_seen),
        "last_seen_ms": last_seen,
        "online": state.online,
        "battery_v": state.health("bat"),
        "rssi_dbm": state.health("rssi"),
    }


@router.get(
    "/devices",
    response_model=DeviceList,
    responses={200: {"content": {CSV_MEDIA_TYPE: {"example": "id,village,registered,...\r\n"}}}},
)
async def list_devices(
    request: Request,
    *,
    reader: ReaderDep,
    registry: RegistryDep,
    settings: SettingsDep,
    caller: CallerDep,
    now_ms: ClockDep,
    village: VillageQuery = None,
    format: FormatQuery = None,
) -> Response:
    """Registered devices and devices that send data without a registry entry (`registered: false`).

    Each with its last activity, online state, battery and signal. `format=csv` (or `Accept: text/csv`) streams CSV.
    """
    if village is not None:
        caller.require_village(village)
    states = await device_states(
        reader, registry, caller, now_ms=now_ms, offline_after_ms=settings.api_offline_after_s * 1000, village=village
    )
    rows = [device_row(s) for s in states]
    max_age = settings.api_cache_max_age_s
    if wants_csv(request, format):
        table = ([row[c] for c in DEVICE_COLUMNS] for row in rows)
        return csv_response(request, DEVICE_COLUMNS, table, filename="devices.csv", max_age_s=max_age)
    return cached_json(request, {"count": len(rows), "devices": rows}, max_age_s=max_age)


class LatestReading(BaseModel):
    value: float = Field(examples=[7.2])
    unit: str = Field(examples=["pH"])
    label_vi: str = Field(examples=["Độ pH"], description="Vietnamese label, for farmers' phones")
    time: datetime
    ts_ms: int = Field(description="the same instant as epoch milliseconds")
    flags: list[str] = Field(default_factory=list, description="quality flags of this reading, if any")


class DeviceLatest(BaseModel):
    device: str
    village: str
    registered: bool
    readings: dict[str, LatestReading]


async def device_villages(reader: InfluxReader, registry: Registry, device: str) -> set[str]:
    """Every village the device is registered in or has data tagged with (usually one)."""
    query = f"SHOW TAG VALUES WITH KEY = {quote_identifier(TAG_VILLAGE)} WHERE {quote_identifier(TAG_DEVICE)} = $d"
    results = await reader.query(query, {"d": device})
    found = {str(row[1]) for series in (results[0] if results else ()) for row in series.values}
    entry = registry.by_id.get(device)
    return found | ({entry.village} if entry else set())


async def require_device(reader: InfluxReader, registry: Registry, caller: Principal, device: str) -> set[str]:
    """The villages of `device` that the caller may read.

    Raises:
        NotFound: the device has neither data nor a registry entry.
        Forbidden: it has, but only in villages outside the caller's scope.
    """
    entry = registry.by_id.get(device)
    if entry is not None and caller.may_read(entry.village):
        return {entry.village}  # no round trip: queries are filtered to the caller's villages anyway
    villages = await device_villages(reader, registry, device)
    if not villages:
        raise NotFound("device_not_found", f"no readings for device {device!r}")
    readable = set(caller.readable(villages))
    if not readable:
        raise Forbidden("forbidden", f"this token may not read device {device!r}")
    return readable


@router.get("/devices/{device}/latest", response_model=DeviceLatest)
async def device_latest(
    request: Request,
    device: DevicePath,
    *,
    reader: ReaderDep,
    registry: RegistryDep,
    settings: SettingsDep,
    caller: CallerDep,
) -> Response:
    """The latest value of each quantity the device has reported, with its unit, time and quality flags."""
    villages = await require_device(reader, registry, caller, device)
    found, tagged, _ = await latest_by_device(reader, caller, device=device)
    entry = registry.by_id.get(device)
    readings = found.get(device, {})
    if not readings:  # registered but silent so far: no latest reading exists yet
        raise NotFound("no_readings", f"device {device!r} is registered but has sent no readings yet")
    flags = await flags_at(reader, caller, device, {q: r.ts_ms for q, r in readings.items()})
    body = {
        "device": device,
        "village": entry.village if entry else tagged.get(device, min(villages)),
        "registered": entry is not None,
        "readings": {
            name: {
                "value": r.value,
                "unit": QUANTITIES[name].unit,
                "label_vi": QUANTITIES[name].label_vi,
                "time": _time(r.ts_ms),
                "ts_ms": r.ts_ms,
                "flags": flags.get(name, []),
            }
            for name, r in sorted(readings.items())
        },
    }
    return cached_json(request, body, max_age_s=settings.api_cache_max_age_s)


async def flags_at(reader: InfluxReader, caller: Principal, device: str, times: dict[str, int]) -> dict[str, list[str]]:
    """Quality flags recorded at exactly the time of each latest reading."""
    if not times:
        return {}
    conditions = device_filter(caller, device=device).between(min(times.values()), max(times.values()) + 1)
    query = f"SELECT * FROM {quote_identifier(QUALITY)}{conditions.where()} GROUP BY {quote_identifier(TAG_QUANTITY)}"
    results = await reader.query(query, conditions.params)
    flags: dict[str, list[str]] = {}
    for series in results[0] if results else ():
        name = series.tags.get(TAG_QUANTITY, "")
        for record in series.records():
            if record["time"] == times.get(name):
                flags[name] = [f.field for f in QualityFlag if record.get(f.field)]
    return flags
