"""`GET /api/v1/villages/{village}/summary`: statistics, VN_AQI beside the US EPA AQI, and QCVN status."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from api.clock import ClockDep
from api.compliance import air_compliance, water_compliance
from api.deps import CallerDep, ReaderDep, RegistryDep, SettingsDep
from api.errors import ERROR_RESPONSES, InvalidRequest, NotFound
from api.params import VillagePath
from api.responses import cached_json
from api.summary import Window, air_quality, quantity_stats, station_pm
from api.timeparams import DAY_MS, DURATION_PATTERN, HOUR_MS, duration_ms, instant_ms, iso, zone_named

router = APIRouter(prefix="/api/v1", tags=["villages"], responses=ERROR_RESPONSES)

MAX_WINDOW_MS = 31 * DAY_MS


class Summary(BaseModel):
    village: str = Field(examples=["phu-an"])
    name: str = Field(examples=["Phú An"])
    window: str = Field(examples=["24h"])
    tz: str
    start: str
    stop: str
    start_ms: int
    stop_ms: int
    quantities: dict[str, dict[str, Any]] = Field(
        description="per quantity: unit, count, min, mean, max, p95 (nearest rank) over the window",
        examples=[{"pm25": {"unit": "µg/m³", "count": 288, "min": 12.0, "mean": 27.9, "max": 49.0, "p95": 41.0}}],
    )
    air_quality: dict[str, Any] = Field(description="VN_AQI and US EPA AQI, hourly and daily, village and stations")
    compliance: list[dict[str, Any]] = Field(description="QCVN status of quantities that have limits")


@router.get("/villages/{village}/summary", response_model=Summary)
async def village_summary(
    request: Request,
    village: VillagePath,
    *,
    reader: ReaderDep,
    registry: RegistryDep,
    settings: SettingsDep,
    caller: CallerDep,
    now_ms: ClockDep,
    window: Annotated[str, Query(pattern=DURATION_PATTERN, description="1h … 31d, ending at stop")] = "24h",
    stop: Annotated[str | None, Query(description="end of the window (default now)", examples=["now"])] = None,
    tz: Annotated[str | None, Query(description="IANA zone of the daily index's day")] = None,
) -> Response:
    """Per quantity min/mean/max/p95 over the window; VN_AQI (indicative) and US EPA AQI; QCVN status."""
    caller.require_village(village)
    window_ms = duration_ms(window, what="window")
    if not HOUR_MS <= window_ms <= MAX_WINDOW_MS:
        raise InvalidRequest("invalid_window", "window must lie between 1h and 31d")
    zone = zone_named(tz or settings.api_timezone)
    stop_ms = instant_ms(stop, now_ms=now_ms, zone=zone, what="stop") if stop else now_ms
    period = Window.ending(stop_ms, window_ms=window_ms, zone=zone)
    stats = await quantity_stats(reader, village, period)
    entry = registry.village(village)
    if not stats and entry is None and not any(True for _ in registry.devices_in(village)):
        raise NotFound("village_not_found", f"no registry entry and no readings in the window for {village!r}")
    stations = await station_pm(reader, period, caller=caller, village=village)
    body = {
        "village": village,
        "name": entry.name if entry else village,
        "window": window,
        "tz": zone.key,
        "start": iso(period.start_ms),
        "stop": iso(period.stop_ms),
        "start_ms": period.start_ms,
        "stop_ms": period.stop_ms,
        "quantities": stats,
        "air_quality": air_quality(stations, period),
        "compliance": air_compliance(stations, period) + water_compliance(stats),
    }
    return cached_json(request, body, max_age_s=settings.api_cache_max_age_s)
