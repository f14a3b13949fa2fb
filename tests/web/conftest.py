"""The farmer pages on real data: the scene sent through mosquitto to a real ingestor into InfluxDB, the app
served by uvicorn on a free port, farmers' links in a real farmers file, and headless Chromium to look at it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn

from api.app import create_app
from api.settings import ApiSettings
from api.web.farmers import Farmer, Farmers, new_token, save_farmers
from devices.payload import encode_telemetry
from devices.registry import format_registry
from ingest.settings import IngestSettings
from tests.conftest import RunningIngestor
from tests.helpers import eventually, influx_rows, mqtt_publisher, publish_all, unique_id
from tests.web import scene
from village.processes import free_port
from village.services import Broker, Database

SAMPLES_PER_MESSAGE = 12
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "web"


@dataclass(frozen=True)
class WebData:
    """The database filled with the scene, the files the app reads, and what was sent."""

    influx_url: str
    database: str
    registry_path: Path
    farmers_path: Path
    farmers: Farmers
    sent: list[scene.Sample]
    end_ms: int

    def farmer(self, farmer_id: str) -> Farmer:
        found = self.farmers.get(farmer_id)
        assert found is not None
        return found

    def truth(self, device: str, quantity: str) -> list[tuple[int, float]]:
        """(ts_ms, value) of one quantity of one device, as sent, oldest first."""
        return [
            (int(s.telemetry.ts), float(s.telemetry.readings[quantity]))
            for s in self.sent
            if s.device.id == device and quantity in s.telemetry.readings
        ]


@pytest.fixture(scope="session")
def web_data(broker: Broker, influxdb: Database, tmp_path_factory: pytest.TempPathFactory) -> WebData:
    workdir = tmp_path_factory.mktemp("web")
    registry_path = workdir / "registry.toml"
    registry_path.write_text(format_registry(scene.REGISTRY), encoding="utf-8")
    farmers = Farmers(
        farmers=tuple(
            Farmer(id=fid, name=name, devices=devices, token=new_token())
            for fid, name, devices in scene.FARMERS_TOML_ROWS
        )
    )
    farmers_path = workdir / "farmers.toml"
    save_farmers(farmers_path, farmers)
    end_ms = time.time_ns() // 1_000_000 - 60_000
    sent = scene.samples(end_ms=end_ms)
    database = unique_id("web").replace("-", "_")
    settings = IngestSettings(
        _env_file=None,  # type: ignore[call-arg]
        mqtt_url=broker.url,
        influx_url=influxdb.url,
        influx_db=database,
        data_dir=workdir / "data",
        registry_file=registry_path,
        ingest_client_id=unique_id("ingest"),
        ingest_batch_max_wait_ms=50,
    )
    by_device: dict[str, list[scene.Sample]] = {}
    for sample in sent:
        by_device.setdefault(sample.device.id, []).append(sample)
    messages = [
        (
            f"village/{group[0].device.village}/{device}/telemetry",
            encode_telemetry([s.telemetry for s in group[i : i + SAMPLES_PER_MESSAGE]]),
        )
        for device, group in by_device.items()
        for i in range(0, len(group), SAMPLES_PER_MESSAGE)
    ]
    ingestor = RunningIngestor(settings).start()
    try:
        with mqtt_publisher(broker.url) as client:
            publish_all(client, messages)

        def stored() -> bool:
            rows = influx_rows(influxdb.url, database, 'SELECT count("bat") FROM "device"')
            return bool(rows) and rows[0]["count"] == len(sent)

        eventually(stored, timeout_s=60, what=f"{len(sent)} samples stored")
    finally:
        ingestor.close()
    return WebData(influxdb.url, database, registry_path, farmers_path, farmers, sent, end_ms)


def web_settings(data: WebData, **overrides: object) -> ApiSettings:
    values: dict[str, object] = {
        "influx_url": data.influx_url,
        "influx_db": data.database,
        "registry_file": data.registry_path,
        "farmers_file": data.farmers_path,
        "api_public_read": True,
        **overrides,
    }
    return ApiSettings(_env_file=None, **values)  # type: ignore[call-arg, arg-type]


@contextmanager
def serving(settings: ApiSettings) -> Iterator[str]:
    """The app served by uvicorn on a free loopback port, on a thread; yields its base URL."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning", access_log=False)
    )
    thread = threading.Thread(target=server.run, name=f"web-{port}", daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            return httpx.get(f"{url}/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    eventually(up, timeout_s=20, what="app up")
    try:
        yield url
    finally:
        server.should_exit = True
        thread.join(10)
        assert not thread.is_alive(), "the server did not stop"


@pytest.fixture(scope="session")
def site(web_data: WebData) -> Iterator[str]:
    """The app with open-data reads, as `village up` runs it."""
    with serving(web_settings(web_data)) as url:
        yield url


@pytest.fixture(scope="session")
def closed_site(web_data: WebData) -> Iterator[str]:
    """The app with reads behind tokens: only farmers' links open pages."""
    with serving(web_settings(web_data, api_public_read=False)) as url:
        yield url


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
