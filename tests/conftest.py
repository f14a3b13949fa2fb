"""Real services for the whole session: mosquitto and influxd from the installed binaries, on free ports.

A missing binary fails the session with the install command; nothing here is ever skipped or mocked. Each test
gets its own InfluxDB database and its own village id, so tests never see each other's data.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from ingest.service import IngestService
from ingest.settings import IngestSettings
from tests.helpers import clear_retained, unique_id
from village.services import Broker, Database, start_influxd, start_mosquitto


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    service = start_mosquitto(tmp_path_factory.mktemp("mosquitto"))
    yield service
    service.process.stop()


@pytest.fixture(scope="session")
def influxdb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    service = start_influxd(tmp_path_factory.mktemp("influxdb"))
    yield service
    service.process.stop()


@pytest.fixture
def database_name() -> str:
    return unique_id("t").replace("-", "_")


@pytest.fixture
def village_id() -> str:
    return unique_id("v")


@pytest.fixture
def ingest_settings(broker: Broker, influxdb: Database, database_name: str, tmp_path: Path) -> IngestSettings:
    return IngestSettings(
        _env_file=None,  # type: ignore[call-arg]
        mqtt_url=broker.url,
        influx_url=influxdb.url,
        influx_db=database_name,
        data_dir=tmp_path / "data",
        ingest_client_id=unique_id("ingest"),
        ingest_batch_max_wait_ms=50,
    )


class RunningIngestor:
    """An ingestor on a thread of the test process, stopped at teardown."""

    def __init__(self, settings: IngestSettings) -> None:
        self.settings = settings
        self.stop = threading.Event()
        self.ready = threading.Event()
        self.error: BaseException | None = None
        self.service = IngestService(settings)
        self._thread = threading.Thread(target=self._run, name="ingestor", daemon=True)

    def _run(self) -> None:
        try:
            self.service.run(self.stop, ready=self.ready)
        except BaseException as exc:  # surfaced by the test through .error
            self.error = exc

    def start(self) -> RunningIngestor:
        self._thread.start()
        assert self.ready.wait(20), f"ingestor not ready: {self.error!r}"
        return self

    def close(self) -> None:
        self.stop.set()
        self._thread.join(20)
        assert not self._thread.is_alive(), "ingestor did not stop within 20 s"


@pytest.fixture
def ingestor(broker: Broker, ingest_settings: IngestSettings) -> Iterator[RunningIngestor]:
    clear_retained(broker.url)  # a new subscription would receive the statuses other tests left on the broker
    running = RunningIngestor(ingest_settings).start()
    yield running
    running.close()
