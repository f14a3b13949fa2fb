"""`village ingest`: the ingestor in the foreground until SIGTERM/SIGINT, then flush and exit 0."""

from __future__ import annotations

import signal
import threading
from types import FrameType

import click

from ingest.errors import ConfigurationError
from ingest.service import IngestService
from ingest.settings import IngestSettings


@click.command("ingest")
@click.option("--client-id", help="Stable MQTT client id of this instance [VILLAGE_INGEST_CLIENT_ID].")
@click.option("--share-group", help="Share one subscription among N ingestors ($share/NAME/...).")
@click.option("--metrics-port", type=int, help="Serve Prometheus metrics on this port (0: any free port).")
def ingest_command(client_id: str | None, share_group: str | None, metrics_port: int | None) -> None:
    """Carry readings from MQTT into InfluxDB, acknowledging each message only once it is stored."""
    overrides = {
        key: value
        for key, value in (
            ("ingest_client_id", client_id),
            ("ingest_share_group", share_group),
            ("ingest_metrics_port", metrics_port),
        )
        if value is not None
    }
    settings = IngestSettings(**overrides)  # type: ignore[arg-type]
    try:
        service = IngestService(settings)
    except ConfigurationError as exc:
        click.echo(f"village ingest: {exc}", err=True)
        raise SystemExit(2) from exc
    stop = threading.Event()

    def request_stop(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    service.run(stop)
