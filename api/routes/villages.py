"""`GET /api/v1/villages`: every village with its device counts and last activity."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from api.clock import ClockDep
from api.deps import CallerDep, ReaderDep, RegistryDep, SettingsDep
from api.errors import ERROR_RESPONSES
from api.fleet import DeviceState, device_states
from api.responses import cached_json
from api.timeparams import iso
from devices.registry import Registry

router = APIRouter(prefix="/api/v1", tags=["villages"], responses=ERROR_RESPONSES)


class VillageOut(BaseModel):
    id: str = Field(examples=["phu-an"])
    name: str = Field(examples=["Phú An"], description="the id when the village is not registered")
    district: str | None = Field(None, examples=["Bến Cát"])
    lat: float | None = Field(None, examples=[11.048])
    lon: float | None = Field(None, examples=[106.583])
    registered: bool
    devices: int = Field(description="registered and unregistered devices")
    registered_devices: int
    unregistered_devices: int
    online_devices: int
    last_activity: str | None = Field(None, description="latest reading of any device, RFC 3339 UTC")
    last_activity_ms: int | None = None


class VillageList(BaseModel):
    count: int
    villages: list[VillageOut]


def village_rows(registry: Registry, states: list[DeviceState], readable: list[str]) -> list[dict[str, Any]]:
    """One row per village that is registered or has devices, among those the caller may read."""
    by_village: dict[str, list[DeviceState]] = {}
    for state in states:
        by_village.setdefault(state.village, []).append(state)
    rows = []
    for village_id in sorted(set(readable) | set(by_village)):
        entry = registry.village(village_id)
        members = by_village.get(village_id, [])
        last = max((s.last_seen_ms for s in members if s.last_seen_ms is not None), default=None)
        registered = sum(1 for s in members if s.registered)
        rows.append(
            {
                "id": village_id,
                "name": entry.name if entry else village_id,
                "district": entry.district if entry else None,
                "lat": entry.lat if entry else None,
                "lon": entry.lon if entry else None,
                "registered": entry is not None,
                "devices": len(members),
                "registered_devices": registered,
                "unregistered_devices": len(members) - registered,
                "online_devices": sum(1 for s in members if s.online),
                "last_activity": iso(last) if last is not None else None,
                "last_activity_ms": last,
            }
        )
    return rows


@router.get("/villages", response_model=VillageList)
async def list_villages(
    request: Request,
    *,
    reader: ReaderDep,
    registry: RegistryDep,
    settings: SettingsDep,
    caller: CallerDep,
    now_ms: ClockDep,
) -> Response:
    """Villages (registered, or known from their devices' data) with device counts and last activity."""
    states = await device_states(
        reader, registry, caller, now_ms=now_ms, offline_after_ms=settings.api_offline_after_s * 1000
    )
    readable = caller.readable(v.id for v in registry.villages)
    rows = village_rows(registry, states, readable)
    return cached_json(request, {"count": len(rows), "villages": rows}, max_age_s=settings.api_cache_max_age_s)
