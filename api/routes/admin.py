"""`POST /api/v1/admin/tiers/{tier}/rebuild`: downsample history that the continuous queries never saw.

The continuous queries recompute only the last 6 h (hourly) / 3 d (daily). History uploaded later (a board back
online after a week, an imported archive, the simulator's backfill) stays raw-only, and `/series` then reads raw
data for long ranges (it says so in `tier_note`). An operator runs this once for the range to put it in the tier.
It rewrites whole tier buckets with `SELECT … INTO`, so running it twice changes nothing.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from api.clock import ClockDep
from api.deps import CallerDep, ReaderDep, SettingsDep
from api.errors import ERROR_RESPONSES, Forbidden, InvalidRequest
from api.tiers import TIER_MS, downsample_statements
from api.timeparams import DAY_MS, instant_ms, iso, zone_named

router = APIRouter(prefix="/api/v1/admin", tags=["admin"], responses=ERROR_RESPONSES)

MAX_REBUILD_DAYS = 93


class Rebuilt(BaseModel):
    tier: str = Field(examples=["hourly"])
    start: str = Field(description="first bucket rebuilt (the range widened to whole buckets)")
    stop: str
    points_written: int = Field(description="tier points written (one per series, measurement and bucket)")


@router.post("/tiers/{tier}/rebuild", response_model=Rebuilt)
async def rebuild_tier(
    tier: Annotated[Literal["hourly", "daily"], Path(description="the downsampled tier to rebuild")],
    *,
    reader: ReaderDep,
    settings: SettingsDep,
    caller: CallerDep,
    now_ms: ClockDep,
    start: Annotated[str, Query(description="from (widened to the tier's bucket)", examples=["now-30d"])],
    stop: Annotated[str | None, Query(description="until (default now)", examples=["now"])] = None,
) -> Rebuilt:
    """Recompute `tier` from raw data for [start, stop), up to 93 days per call. Admin token for every village."""
    caller.require_admin()
    if caller.villages is not None:
        raise Forbidden("admin_required", "rebuilding a tier touches every village: use an admin token for all")
    zone = zone_named(settings.api_timezone)
    start_ms = instant_ms(start, now_ms=now_ms, zone=zone, what="start")
    stop_ms = instant_ms(stop, now_ms=now_ms, zone=zone, what="stop") if stop else now_ms
    tier_ms = TIER_MS[tier]
    start_ms, stop_ms = start_ms - start_ms % tier_ms, -(-stop_ms // tier_ms) * tier_ms
    if not 0 < stop_ms - start_ms <= MAX_REBUILD_DAYS * DAY_MS:
        raise InvalidRequest("invalid_range", f"start must be before stop, at most {MAX_REBUILD_DAYS} days apart")
    written = 0
    for statement in downsample_statements(reader.database, tier, start_ms, stop_ms):
        for result in await reader.query(statement):
            written += sum(int(row[1]) for series in result for row in series.values)
    return Rebuilt(tier=tier, start=iso(start_ms), stop=iso(stop_ms), points_written=written)
