"""`GET /healthz`: is the API up, and can it reach InfluxDB?"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from api.deps import ReaderDep

router = APIRouter()


class Health(BaseModel):
    status: str
    influxdb: str


@router.get("/healthz", response_model=Health, responses={503: {"model": Health}}, tags=["health"])
async def healthz(reader: ReaderDep) -> JSONResponse:
    """200 when InfluxDB answers, 503 otherwise (load balancers and `village up` poll this)."""
    if await reader.ping():
        return JSONResponse({"status": "ok", "influxdb": "ok"})
    return JSONResponse({"status": "degraded", "influxdb": "unreachable"}, status_code=503)
