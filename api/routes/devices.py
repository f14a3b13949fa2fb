"""Per-device reads: the latest value of every quantity a device reports."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field

from api.deps import ReadAccess, ReaderDep
from api.errors import NotFound
from api.influx import InfluxReader
from devices.quantities import CATALOGUE, QUANTITIES
from devices.reasons import QualityFlag
from devices.schema import QUALITY, TAG_DEVICE, TAG_QUANTITY, TAG_VILLAGE, quote_identifier

router = APIRouter(prefix="/api/v1", dependencies=[ReadAccess], tags=["devices"])

DeviceId = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$", examples=["phu-an-water-01"])]


class LatestReading(BaseModel):
    value: float = Field(examples=[7.2])
    unit: str = Field(examples=["pH"])
    time: datetime
    ts_ms: int = Field(description="the same instant as epoch milliseconds")
    flags: list[str] = Field(default_factory=list, description="quality flags of this reading, if any")


class DeviceLatest(BaseModel):
    device: str
    village: str
    readings: dict[str, LatestReading]


def _latest_statements() -> str:
    """One `last()` per quantity: with several selectors in one statement InfluxDB would lose the times."""
    return ";".join(
        f"SELECT last({quote_identifier(q.name)}) AS value FROM {quote_identifier(q.domain.value)} "
        f"WHERE {quote_identifier(TAG_DEVICE)} = $device GROUP BY {quote_identifier(TAG_VILLAGE)}"
        for q in CATALOGUE
    )


_LATEST = _latest_statements()


@router.get("/devices/{device}/latest", response_model=DeviceLatest)
async def device_latest(device: DeviceId, reader: ReaderDep) -> DeviceLatest:
    """The latest value of each quantity the device has reported, with its unit, time and quality flags."""
    results = await reader.query(_LATEST, {"device": device})
    readings: dict[str, LatestReading] = {}
    village = ""
    for quantity, result in zip(CATALOGUE, results, strict=False):
        for series in result:
            ts_ms, value = series.values[0]
            if value is None:
                continue
            village = series.tags.get(TAG_VILLAGE, village)
            readings[quantity.name] = LatestReading(
                value=value,
                unit=quantity.unit,
                time=datetime.fromtimestamp(ts_ms / 1000, tz=UTC),
                ts_ms=ts_ms,
            )
    if not readings:
        raise NotFound("device_not_found", f"no readings for device {device!r}")
    await _attach_flags(reader, device, readings)
    return DeviceLatest(device=device, village=village, readings=dict(sorted(readings.items())))


async def _attach_flags(reader: InfluxReader, device: str, readings: dict[str, LatestReading]) -> None:
    """Flags recorded at exactly the time of each latest reading."""
    since_ms = min(r.ts_ms for r in readings.values())
    query = (
        f"SELECT * FROM {quote_identifier(QUALITY)} WHERE {quote_identifier(TAG_DEVICE)} = $device "
        f"AND time >= $since GROUP BY {quote_identifier(TAG_QUANTITY)}"
    )
    since = datetime.fromtimestamp(since_ms / 1000, tz=UTC).isoformat().replace("+00:00", "Z")
    results = await reader.query(query, {"device": device, "since": since})
    for series in results[0] if results else ():
        name = series.tags.get(TAG_QUANTITY, "")
        latest = readings.get(name)
        if latest is None or name not in QUANTITIES:
            continue
        for record in series.records():
            if record["time"] == latest.ts_ms:
                latest.flags = [f.field for f in QualityFlag if record.get(f.field)]
