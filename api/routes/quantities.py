"""`GET /api/v1/quantities`: the data dictionary, so clients label, unit and range-check what they show."""

from __future__ import annotations

import math

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from api.deps import CallerDep, SettingsDep
from api.errors import ERROR_RESPONSES
from api.responses import cached_json
from devices.quantities import CATALOGUE

router = APIRouter(prefix="/api/v1", tags=["reference"], responses=ERROR_RESPONSES)


class QuantityOut(BaseModel):
    name: str = Field(examples=["pm25"])
    measurement: str = Field(examples=["air"], description="InfluxDB measurement (water, air, agri, device)")
    unit: str = Field(examples=["µg/m³"])
    label_vi: str = Field(examples=["Bụi PM2.5"])
    label_en: str = Field(examples=["PM2.5"])
    valid_min: float = Field(description="readings outside [valid_min, valid_max] are rejected by the ingestor")
    valid_max: float
    plausible_min: float | None = Field(None, description="outside the plausible range readings are flagged")
    plausible_max: float | None = None
    source: str = Field(description="where the limits come from")


class QuantityList(BaseModel):
    quantities: list[QuantityOut]


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


@router.get("/quantities", response_model=QuantityList)
async def quantities(request: Request, settings: SettingsDep, _caller: CallerDep) -> Response:
    """Every quantity a device may report: measurement, canonical unit, Vietnamese and English labels, limits."""
    rows = [
        {
            "name": q.name,
            "measurement": q.domain.value,
            "unit": q.unit,
            "label_vi": q.label_vi,
            "label_en": q.label_en,
            "valid_min": q.hard_min,
            "valid_max": q.hard_max,
            "plausible_min": _finite(q.soft_min),
            "plausible_max": _finite(q.soft_max),
            "source": q.source,
        }
        for q in CATALOGUE
    ]
    return cached_json(request, {"quantities": rows}, max_age_s=10 * settings.api_cache_max_age_s)
