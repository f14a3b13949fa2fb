"""`GET /healthz` (is the API up, can it reach InfluxDB?) and `GET /metrics` (Prometheus)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel

from api.deps import CallerDep, MetricsDep, ReaderDep, SettingsDep
from api.errors import ERROR_RESPONSES

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str
    influxdb: str


@router.get("/healthz", response_model=Health, responses={503: {"model": Health}})
async def healthz(reader: ReaderDep) -> JSONResponse:
    """200 when InfluxDB answers, 503 otherwise (load balancers and `village up` poll this). Never cached."""
    headers = {"Cache-Control": "no-store"}
    if await reader.ping():
        return JSONResponse({"status": "ok", "influxdb": "ok"}, headers=headers)
    return JSONResponse({"status": "degraded", "influxdb": "unreachable"}, status_code=503, headers=headers)


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Prometheus text format"}, **ERROR_RESPONSES},
)
async def metrics(metrics: MetricsDep, caller: CallerDep, settings: SettingsDep) -> Response:
    """Prometheus metrics: requests by route and status, latencies, InfluxDB query time and failures.

    Open when reads are public; otherwise a token with the admin scope is needed.
    """
    if not settings.api_public_read:
        caller.require_admin()
    return Response(
        generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST, headers={"Cache-Control": "no-store"}
    )
