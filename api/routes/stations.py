"""`GET /api/v1/stations`: GeoJSON of every station with its latest readings, for QGIS and web maps.

RFC 7946: coordinates are [longitude, latitude] in WGS 84, and no `crs` member. Properties are flat (one column
per quantity) so QGIS shows them as attribute columns. A device without a registry entry has no known
position: its feature has `"geometry": null`, as RFC 7946 §3.2 allows, and `registered: false`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from api.clock import ClockDep
from api.deps import CallerDep, ReaderDep, RegistryDep, SettingsDep
from api.errors import ERROR_RESPONSES
from api.fleet import DeviceState, device_states
from api.params import VillageQuery
from api.responses import cached_json
from api.summary import Window, station_indices, station_pm
from api.timeparams import HOUR_MS, iso, zone_named
from devices.quantities import CATALOGUE, Domain
from devices.standards import QCVN_01_1_2018

router = APIRouter(prefix="/api/v1", tags=["gis"], responses=ERROR_RESPONSES)

GEOJSON = "application/geo+json"
_HEALTH = {"bat": "battery_v", "rssi": "rssi_dbm"}


class Point(BaseModel):
    type: Literal["Point"]
    coordinates: tuple[float, float] = Field(description="[longitude, latitude], WGS 84", examples=[[106.583, 11.048]])


class Feature(BaseModel):
    type: Literal["Feature"]
    id: str
    geometry: Point | None = Field(description="null for an unregistered device (position unknown)")
    properties: dict[str, Any] = Field(
        examples=[
            {
                "name": "Trạm không khí 1",
                "village": "phu-an",
                "kind": "air",
                "status": "online",
                "pm25": 27.0,
                "vn_aqi": 55,
                "vn_aqi_category": "Trung bình",
                "vn_aqi_color": "#ffff00",
            }
        ]
    )


class FeatureCollection(BaseModel):
    type: Literal["FeatureCollection"]
    features: list[Feature]
    units: dict[str, str] = Field(description="unit of each quantity column (a foreign member, RFC 7946 §6.1)")


def _status_properties(state: DeviceState, indices: dict[str, Any] | None) -> dict[str, Any]:
    """Map-ready status: hourly VN_AQI of air stations (indicative), QCVN 01-1:2018 of the latest water readings."""
    found: dict[str, Any] = {}
    hourly = indices["vn_aqi"]["hourly"] if indices else None
    if hourly is not None:
        found |= {"vn_aqi": hourly["value"], "vn_aqi_category": hourly["category_vi"], "vn_aqi_color": hourly["color"]}
        epa = indices["us_epa_aqi"]["hourly"] if indices else None
        found["us_epa_aqi"] = epa["value"] if epa else None
    checked = [(lim, state.readings[lim.quantity].value) for lim in QCVN_01_1_2018 if lim.quantity in state.readings]
    if checked:
        found["qcvn_01_1_2018"] = "compliant" if all(lim.complies(v) for lim, v in checked) else "exceeds"
    return found


def feature(state: DeviceState, indices: dict[str, Any] | None = None) -> dict[str, Any]:
    """One station as a GeoJSON Feature."""
    geometry = None
    if state.lat is not None and state.lon is not None:
        geometry = {"type": "Point", "coordinates": [state.lon, state.lat]}
    last_seen = state.last_seen_ms
    properties: dict[str, Any] = {
        "id": state.id,
        "name": state.name or state.id,
        "village": state.village,
        "kind": state.kind,
        "registered": state.registered,
        "installed": state.installed.isoformat() if state.installed else None,
        "owner": state.owner,
        "status": "online" if state.online else "offline",
        "last_seen": iso(last_seen) if last_seen is not None else None,
        "last_seen_ms": last_seen,
    }
    for name, reading in state.readings.items():
        properties[_HEALTH.get(name, name)] = reading.value
    properties |= _status_properties(state, indices)
    return {"type": "Feature", "id": state.id, "geometry": geometry, "properties": properties}


@router.get(
    "/stations",
    response_model=FeatureCollection,
    responses={200: {"content": {GEOJSON: {"schema": {"$ref": "#/components/schemas/FeatureCollection"}}}}},
)
async def stations(
    request: Request,
    *,
    reader: ReaderDep,
    registry: RegistryDep,
    settings: SettingsDep,
    caller: CallerDep,
    now_ms: ClockDep,
    village: VillageQuery = None,
    kind: Annotated[Literal["water", "air", "agri"] | None, Query(description="only stations of this kind")] = None,
) -> Response:
    """Stations as a GeoJSON FeatureCollection ([lon, lat]) with their latest readings and status.

    Status: `status` online/offline; air stations add the hourly VN_AQI (indicative; `vn_aqi_category`,
    `vn_aqi_color`) and the US EPA AQI; water stations add `qcvn_01_1_2018` of their latest pH and turbidity.

    Load it in QGIS with *Layer → Add Vector Layer → Protocol: HTTP(S)* and this URL.
    """
    if village is not None:
        caller.require_village(village)
    states = await device_states(
        reader, registry, caller, now_ms=now_ms, offline_after_ms=settings.api_offline_after_s * 1000, village=village
    )
    window = Window.ending(now_ms, window_ms=HOUR_MS, zone=zone_named(settings.api_timezone))
    indices = {
        s.device: station_indices(s, window) for s in await station_pm(reader, window, caller=caller, village=village)
    }
    features = [feature(s, indices.get(s.id)) for s in states if kind is None or s.kind == kind]
    units = {
        _HEALTH.get(q.name, q.name): q.unit for q in CATALOGUE if q.domain is not Domain.DEVICE or q.name in _HEALTH
    }
    body = {"type": "FeatureCollection", "features": features, "units": units}
    return cached_json(request, body, max_age_s=settings.api_cache_max_age_s, media_type=GEOJSON)
