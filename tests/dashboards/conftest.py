"""A real InfluxDB filled once per module with a month of the demo fleet's history by the real simulator."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from dashboards.stations import load_registry
from devices.registry import Registry, parse_registry
from ingest.settings import IngestSettings
from tests.conftest import RunningIngestor
from tests.dashboards.history import (
    BACKFILL_INTERVAL_S,
    HISTORY,
    LIVE,
    SentHistory,
    clear_status,
    history_from,
    iso,
    publish_alarms,
    publish_refused,
    simulate,
)
from tests.helpers import eventually, influx_rows, unique_id
from village.services import Broker, Database


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
    work = tmp_path_factory.mktemp("dashboards")
    settings = IngestSettings(
        _env_file=None,  # type: ignore[call-arg]
        mqtt_url=broker.url,
        influx_url=influxdb.url,
        influx_db=unique_id("dash").replace("-", "_"),
        data_dir=work / "ingest",
        ingest_client_id=unique_id("ingest"),
        ingest_batch_max_wait_ms=50,
        # self-metrics every second, so the pipeline panels have points during the few seconds the backfill takes
        ingest_summary_interval_s=1,
    )
    ingestor = RunningIngestor(settings).start()
    env = {"VILLAGE_MQTT_URL": broker.url}
    started_ms = time.time_ns() // 1_000_000
    registry_path = work / "registry.toml"
    try:
        backfill = simulate(
            "backfill", "--backfill", HISTORY, "--end", iso(started_ms - 25 * 60_000), "--interval",
            str(BACKFILL_INTERVAL_S), "--registry", str(registry_path), env=env, work=work, timeout_s=300,
        )  # fmt: skip
        live = simulate("live", *LIVE, env=env, work=work, timeout_s=120)
        registry = parse_registry(registry_path.read_text())
        assert registry == load_registry(), "the dashboards map the demo fleet: rebuild dashboards/stations.toml"
        now_ms = time.time_ns() // 1_000_000  # after the live run: the alarms below are every board's latest
        refused = publish_refused(broker.url, registry, at_ms=now_ms)
        alarms = publish_alarms(broker.url, registry, at_ms=now_ms - 1_000)
        sent = history_from([backfill, live], rejected=refused, extra=alarms)
        expected = (sent.prediction.stored_count() if sent.prediction else 0) + sum(
            len(p) for a in alarms.values() for p in a.values()
        )

        def stored() -> bool:
            measurements = ("water", "air", "agri", "device")
            total = 0
            for measurement in measurements:
                for row in influx_rows(
                    settings.influx_url, settings.influx_db, f'SELECT count(*) FROM "{measurement}"'
                ):
                    total += sum(int(v) for k, v in row.items() if k.startswith("count_") and v)
            return total >= expected

        eventually(stored, timeout_s=120, interval_s=0.5, what=f"{expected} readings stored")
        eventually(
            lambda: ingestor.service.counters.rejected >= sent.rejected, what=f"{sent.rejected} readings refused"
        )

        def recorded() -> bool:
            rows = influx_rows(settings.influx_url, settings.influx_db, 'SELECT sum("count") FROM "rejects"')
            return bool(rows) and rows[0]["sum"] >= sent.rejected

        eventually(recorded, timeout_s=30, what=f"{sent.rejected} refusals in the rejects measurement")
        yield FilledDatabase(influxdb.url, settings.influx_db, registry, sent, now_ms, settings)
    finally:
        clear_status(broker.url, load_registry())
        ingestor.close()
