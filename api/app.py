"""The FastAPI application factory; the InfluxDB client lives exactly as long as the app (lifespan)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.gzip import GZipMiddleware

from api.clock import epoch_ms
from api.errors import install_error_handlers
from api.influx import InfluxReader
from api.metrics import ApiMetrics, MetricsMiddleware
from api.openapi import DESCRIPTION, install_openapi
from api.registry import RegistryFile
from api.routes import admin, devices, health, quantities, series, stations, summary, villages
from api.settings import ApiSettings
from api.web import routes as web_routes
from api.web.farmers import FarmersFile
from api.web.render import WebAssets

GZIP_MIN_BYTES = 1024
GZIP_LEVEL = 5
"""Level 5 compresses JSON almost as well as 9 at a third of the CPU time (a 2-core box serves many phones)."""


def create_app(settings: ApiSettings, *, clock_ms: Callable[[], int] = epoch_ms) -> FastAPI:
    """Build the app for `settings` (tests build one per InfluxDB database); `clock_ms` is "now"."""
    metrics = ApiMetrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with httpx.AsyncClient(
            base_url=settings.influx_url,
            # InfluxDB sits next to the API: compressing there and inflating here costs more than the bytes.
            headers={"Accept-Encoding": "identity", **settings.influx_auth_headers()},
            auth=settings.influx_basic_auth(),
            timeout=httpx.Timeout(settings.api_query_timeout_s, connect=3.0),
            limits=httpx.Limits(max_connections=32, max_keepalive_connections=16),
        ) as client:
            app.state.reader = InfluxReader(client, settings.influx_db, metrics)
            yield

    app = FastAPI(
        title="Smart Village API",
        version="1",
        summary="Readings of village water, air and agriculture sensors (Bình Dương smart-village programme).",
        description=DESCRIPTION,
        lifespan=lifespan,
        license_info={"name": "Apache-2.0", "identifier": "Apache-2.0"},
    )
    app.state.settings = settings
    app.state.metrics = metrics
    app.state.clock_ms = clock_ms
    app.state.registry_file = RegistryFile(settings.registry_path)
    app.state.farmers_file = FarmersFile(settings.farmers_path)
    app.state.web = WebAssets()
    install_error_handlers(app)
    for module in (health, villages, devices, series, summary, stations, quantities, admin):
        app.include_router(module.router)
    app.include_router(web_routes.router)  # the farmer pages: /, /v/…, /d/…, /f/{token}
    install_openapi(app, public_read=settings.api_public_read)
    # Outermost first: metrics see every answer, CORS answers preflights, gzip compresses what is left.
    app.add_middleware(GZipMiddleware, minimum_size=GZIP_MIN_BYTES, compresslevel=GZIP_LEVEL)
    if settings.api_cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.api_cors_origins),
            allow_methods=["GET", "HEAD", "OPTIONS"],
            allow_headers=["Authorization", "If-None-Match", "Accept"],
            expose_headers=["ETag"],
            max_age=3600,
        )
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    return app
