"""`GET /api/v1/series`: time buckets of one quantity for a device or a village, as JSON or streamed CSV."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from api.clock import ClockDep
from api.deps import CallerDep, ReaderDep, RegistryDep, SettingsDep
from api.errors import ERROR_RESPONSES, InvalidRequest
from api.fill import Fill
from api.negotiate import CSV_MEDIA_TYPE, FormatQuery, csv_response, wants_csv
from api.params import DeviceQuery, VillageQuery
from api.responses import cached_json
from api.routes.devices import require_device
from api.series import SeriesQuery, SeriesResult, read_series
from api.settings import ApiSettings
from api.tiers import TIER_MS, Agg, TierChoice, eligible
from api.timeparams import (
    DAY_MS,
    DURATION_PATTERN,
    MINUTE_MS,
    duration_ms,
    format_duration,
    instant_ms,
    iso,
    zone_named,
)
from devices.quantities import CATALOGUE, QUANTITIES
from devices.registry import Registry

router = APIRouter(prefix="/api/v1", tags=["series"], responses=ERROR_RESPONSES)

QUANTITY_NAMES = [q.name for q in CATALOGUE]
AUTO_EVERY_MS = tuple(m * MINUTE_MS for m in (1, 5, 15, 30, 60, 180, 360, 720, 1440))
AUTO_TARGET_BUCKETS = 1000
SERIES_COLUMNS = ("time", "ts_ms", "village", "device", "quantity", "unit", "agg", "value")


class Source(BaseModel):
    tier: str = Field(examples=["hourly"], description="raw, hourly or daily")
    start: str
    stop: str


class SeriesOut(BaseModel):
    device: str | None = Field(description="null for a village aggregate")
    village: str | None
    registered: bool | None = Field(description="whether the device has a registry entry (null for aggregates)")
    points: list[tuple[int, float | None]] = Field(
        description="[ts_ms, value] per bucket, bucket start in epoch milliseconds", examples=[[[1764460800000, 27.4]]]
    )


class SeriesAnswer(BaseModel):
    quantity: str = Field(examples=["pm25"])
    unit: str = Field(examples=["µg/m³"])
    label_vi: str = Field(examples=["Bụi PM2.5"])
    label_en: str = Field(examples=["PM2.5"])
    agg: str
    every: str = Field(examples=["1h"])
    fill: str
    tz: str
    start: str
    stop: str
    start_ms: int
    stop_ms: int
    tier: str = Field(description="where the buckets were read from: raw, or a downsampled tier (hourly, daily)")
    tier_note: str | None = Field(description="why a tier was not used, when it could have been")
    sources: list[Source]
    columns: list[str] = Field(examples=[["ts_ms", "value"]])
    series: list[SeriesOut]


@router.get(
    "/series",
    response_model=SeriesAnswer,
    responses={200: {"content": {CSV_MEDIA_TYPE: {"example": ",".join(SERIES_COLUMNS) + "\r\n"}}}},
)
async def series(
    request: Request,
    *,
    reader: ReaderDep,
    registry: RegistryDep,
    settings: SettingsDep,
    caller: CallerDep,
    now_ms: ClockDep,
    quantity: Annotated[
        str, Query(description="a quantity of the catalogue", json_schema_extra={"enum": QUANTITY_NAMES})
    ],
    device: DeviceQuery = None,
    village: VillageQuery = None,
    start: Annotated[str | None, Query(description="default: stop − 24 h", examples=["now-7d"])] = None,
    stop: Annotated[str | None, Query(description="default: now", examples=["2025-11-30T00:00:00+07:00"])] = None,
    every: Annotated[
        str | None,
        Query(pattern=DURATION_PATTERN, description="bucket size, 1m…1d; default: ≤ 1000 buckets", examples=["1h"]),
    ] = None,
    agg: Annotated[Agg, Query(description="statistic of each bucket (p95: nearest-rank)")] = "mean",
    fill: Annotated[Fill, Query(description="empty buckets: null, none (left out), previous, linear, zero")] = "null",
    tz: Annotated[str | None, Query(description="IANA zone of day buckets", examples=["Asia/Ho_Chi_Minh"])] = None,
    group_by: Annotated[Literal["device"] | None, Query(description="one series per device of the village")] = None,
    tier: Annotated[TierChoice, Query(description="auto: a downsampled tier when it can answer exactly")] = "auto",
    format: FormatQuery = None,
) -> Response:
    """Time buckets of one quantity for a device, or for a village (one aggregate, or one series per device).

    Buckets are aligned to `every` in `tz`; the first and last may be partial. Long ranges read the downsampled
    tiers automatically when the aggregate allows it (mean, min, max, count, sum); `tier` says what was read.
    """
    if quantity not in QUANTITIES:
        raise InvalidRequest("unknown_quantity", f"quantity must be one of: {', '.join(QUANTITY_NAMES)}")
    if device is None and village is None:
        raise InvalidRequest("missing_subject", "give device= or village=")
    if village is not None:
        caller.require_village(village)
    if device is not None:
        await require_device(reader, registry, caller, device)
    zone = zone_named(tz or settings.api_timezone)
    stop_ms = instant_ms(stop, now_ms=now_ms, zone=zone, what="stop") if stop else now_ms
    start_ms = instant_ms(start, now_ms=now_ms, zone=zone, what="start") if start else stop_ms - DAY_MS
    if start_ms >= stop_ms:
        raise InvalidRequest("invalid_range", "start must be before stop")
    every_ms = _every(every, stop_ms - start_ms)
    query = SeriesQuery(
        quantity=QUANTITIES[quantity],
        agg=agg,
        every_ms=every_ms,
        start_ms=start_ms,
        stop_ms=stop_ms,
        zone=zone,
        fill=fill,
        caller=caller,
        device=device,
        village=village,
        by_device=group_by == "device",
    )
    _check_size(query, settings, registry, tier)
    result = await read_series(reader, query, tier)
    _check_points(result, settings)
    body = _answer(query, result, registry)
    if wants_csv(request, format):
        name = f"{device or village}-{quantity}-{agg}.csv"
        return csv_response(
            request, SERIES_COLUMNS, _csv_rows(body), filename=name, max_age_s=_max_age(settings, query, now_ms)
        )
    return cached_json(request, body, max_age_s=_max_age(settings, query, now_ms))


def _every(every: str | None, range_ms: int) -> int:
    if every is None:
        return next((e for e in AUTO_EVERY_MS if range_ms / e <= AUTO_TARGET_BUCKETS), AUTO_EVERY_MS[-1])
    every_ms = duration_ms(every, what="every")
    if not MINUTE_MS <= every_ms <= DAY_MS:
        raise InvalidRequest("invalid_every", "every must lie between 1m and 1d")
    return every_ms


def _check_size(q: SeriesQuery, settings: ApiSettings, registry: Registry, choice: TierChoice) -> None:
    """Refuse before querying what would answer too many points or scan too much raw data."""
    range_ms = q.stop_ms - q.start_ms
    buckets = range_ms // q.every_ms + 2
    devices = sum(1 for _ in registry.devices_in(q.village)) if q.by_device and q.village and not q.device else 1
    if buckets * max(devices, 1) > settings.api_max_points:
        raise InvalidRequest(
            "too_many_points",
            f"{buckets} buckets x {devices} series exceeds {settings.api_max_points} points: "
            "use a larger every or a shorter range",
        )
    needs_raw = choice == "raw" or eligible(
        "hourly", agg=q.agg, every_ms=q.every_ms, zone=q.zone, start_ms=q.start_ms, stop_ms=q.stop_ms
    )
    if needs_raw and range_ms > settings.api_max_raw_days * DAY_MS:
        raise InvalidRequest(
            "range_too_long",
            f"this request reads raw points, limited to {settings.api_max_raw_days} days; use agg in "
            "mean/min/max/count/sum with every a multiple of 1h to read the downsampled tiers",
        )


def _check_points(result: SeriesResult, settings: ApiSettings) -> None:
    points = sum(len(points) for _, points in result.series)
    if points > settings.api_max_points:
        raise InvalidRequest(
            "too_many_points", f"{points} points exceed {settings.api_max_points}: use a larger every or fewer devices"
        )


def _max_age(settings: ApiSettings, q: SeriesQuery, now_ms: int) -> int:
    """Settled history (ending over a tier's recompute window ago) may be cached ten times longer."""
    settled = q.stop_ms < now_ms - 3 * TIER_MS["daily"]
    return settings.api_cache_max_age_s * (10 if settled else 1)


def _answer(q: SeriesQuery, result: SeriesResult, registry: Registry) -> dict[str, Any]:
    known = registry.by_id
    return {
        "quantity": q.quantity.name,
        "unit": q.quantity.unit,
        "label_vi": q.quantity.label_vi,
        "label_en": q.quantity.label_en,
        "agg": q.agg,
        "every": format_duration(q.every_ms),
        "fill": q.fill,
        "tz": q.zone.key,
        "start": iso(q.start_ms),
        "stop": iso(q.stop_ms),
        "start_ms": q.start_ms,
        "stop_ms": q.stop_ms,
        "tier": result.tier,
        "tier_note": result.note,
        "sources": [{"tier": s.tier, "start": iso(s.start_ms), "stop": iso(s.stop_ms)} for s in result.sources],
        "columns": ["ts_ms", "value"],
        "series": [
            {
                "device": tags.get("device", q.device),
                "village": tags.get("village", q.village),
                "registered": None
                if "device" not in tags and q.device is None
                else tags.get("device", q.device) in known,
                "points": points,
            }
            for tags, points in result.series
        ],
    }


def _csv_rows(body: dict[str, Any]) -> Any:  # noqa: ANN401 - a generator of rows
    for series in body["series"]:
        for ts_ms, value in series["points"]:
            yield (
                iso(ts_ms),
                ts_ms,
                series["village"],
                series["device"],
                body["quantity"],
                body["unit"],
                body["agg"],
                value,
            )
