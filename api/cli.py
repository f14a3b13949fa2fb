"""`village api`: serve the HTTP API with uvicorn."""

from __future__ import annotations

import signal

import click
import uvicorn

from api.app import create_app
from api.settings import ApiSettings


@click.command("api")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=int, help="Port to listen on.")
def api_command(host: str, port: int) -> None:
    """Serve the read API (JSON/CSV/GeoJSON) and the farmer web page."""
    settings = ApiSettings()
    # uvicorn shuts down gracefully on SIGTERM/SIGINT, then re-raises the signal under the handler that was
    # installed before it started. A no-op handler there makes a requested stop exit 0, like the ingestor.
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda _signum, _frame: None)
    uvicorn.run(create_app(settings), host=host, port=port, log_level="info", access_log=False)
