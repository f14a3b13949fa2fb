"""The FastAPI application factory; the InfluxDB client lives exactly as long as the app (lifespan)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI

from api.errors import install_error_handlers
from api.influx import InfluxReader
from api.routes import devices, health
from api.settings import ApiSettings


def create_app(settings: ApiSettings) -> FastAPI:
    """Build the app for `settings` (tests build one per InfluxDB database)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with httpx.AsyncClient(
            base_url=settings.influx_url,
            headers=settings.influx_auth_headers(),
            auth=settings.influx_basic_auth(),
            timeout=httpx.Timeout(settings.api_query_timeout_s, connect=3.0),
        ) as client:
            app.state.reader = InfluxReader(client, settings.influx_db)
            yield

    app = FastAPI(
        title="Smart Village API",
        version="1",
        summary="Readings of village water, air and agriculture sensors (Bình Dương smart-village programme).",
        lifespan=lifespan,
    )
    app.state.settings = settings
    install_error_handlers(app)
    app.include_router(health.router)
    app.include_router(devices.router)
    return app
