"""A real InfluxDB filled once per module with a month of simulated fleet history through the real ingestor."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from simulators.publisher import Publisher

from dashboards.stations import load_registry
from devices.config import MqttEndpoint
from devices.registry import Registry
from ingest.settings import IngestSettings
from tests.conftest import RunningIngestor
from tests.dashboards.history import SentHistory, clear_status, publish_history
from tests.helpers import eventually, influx_rows, unique_id
from village.services import Broker, Database

HISTORY_DAYS = 30


@dataclass(frozen=True)
class FilledDatabase:
    """InfluxDB after the backfill: where it is, what was sent, and the instant the history ends."""

    url: str
    name: str
    registry: Registry
    sent: SentHistory
    now_ms: int
    ingest_settings: IngestSettings


@pytest.fixture(scope="module")
def filled(broker: Broker, influxdb: Database, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FilledDatabase]:
    registry = load_registry()
    settings = IngestSettings(
        _env_file=None,  # type: ignore[call-arg]
        mqtt_url=broker.url,
        influx_url=influxdb.url,
        influx_db=unique_id("dash").replace("-", "_"),
        data_dir=tmp_path_factory.mktemp("ingest"),
        ingest_client_id=unique_id("ingest"),
        ingest_batch_max_wait_ms=50,
        # the ingest engine writes its self-metrics once per summary period: every second here, so the
        # pipeline panels have points during the few seconds the backfill takes (ignored by older ingestors)
        ingest_summary_interval_s=1,
    )
    ingestor = RunningIngestor(settings).start()
    publisher = Publisher(MqttEndpoint.parse(broker.url), client_id=unique_id("backfill"))
    publisher.connect()
    now_ms = time.time_ns() // 1_000_000
    try:
        sent = publish_history(publisher, registry, now_ms=now_ms, days=HISTORY_DAYS, seed=1)
        assert publisher.drain(60), "the broker did not acknowledge the backfill"
        expected = sent.count()

        def stored() -> bool:
            rows = influx_rows(influxdb.url, settings.influx_db, 'SELECT count("bat") FROM "device"')
            return bool(rows) and rows[0]["count"] == expected

        eventually(stored, timeout_s=120, interval_s=0.5, what=f"{expected} samples stored")
        refused = sent.rejected
        eventually(lambda: ingestor.service.counters.rejected >= refused, what=f"{refused} readings refused")
        if "ingest_summary_interval_s" in IngestSettings.model_fields:  # the ingest engine records refusals

            def recorded() -> bool:
                rows = influx_rows(influxdb.url, settings.influx_db, 'SELECT sum("count") FROM "rejects"')
                return bool(rows) and rows[0]["sum"] >= refused

            eventually(recorded, timeout_s=30, what=f"{refused} refusals in the rejects measurement")
        yield FilledDatabase(influxdb.url, settings.influx_db, registry, sent, now_ms, settings)
    finally:
        clear_status(publisher, registry)
        publisher.drain(10)
        publisher.close()
        ingestor.close()
