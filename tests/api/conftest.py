"""A village's history sent through the real path, and the API served by uvicorn on a free port.

The backfill: a few days of 5-minute samples from the demo fleet's boards (two villages, one board of each
kind, plus one board missing from the registry), with past device timestamps, encoded by the devices codec and
published through mosquitto to a real ingestor as store-and-forward arrays, as a board that was offline would.
What was sent is kept as ground truth; tests compute their expectations from it with NumPy.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np
import pytest
import uvicorn

from api.app import create_app
from api.settings import ApiSettings
from devices.payload import Telemetry, encode_telemetry
from devices.registry import RegisteredDevice, Registry, format_registry
from ingest.settings import IngestSettings
from simulators.fleet import boards_for, demo_registry
from tests.conftest import RunningIngestor
from tests.helpers import eventually, influx_rows, mqtt_publisher, publish_all, unique_id
from village.processes import free_port
from village.services import Broker, Database

INTERVAL_MS = 5 * 60_000
DAYS = 3
SAMPLES_PER_ARRAY = 12
ADMIN_TOKEN = "admin-token-0123456789abcdef"
PHU_AN_TOKEN = "dau-tieng-reader-0123456789abcdef"
READ_ALL_TOKEN = "read-all-0123456789abcdef"
GHOST = "ghost-air-01"


@dataclass(frozen=True)
class Sent:
    """One sample as sent: where from, when, and every value (readings plus bat and rssi)."""

    village: str
    device: str
    ts_ms: int
    values: dict[str, float]


@dataclass
class Dataset:
    """A database filled through the real path, with the registry file and the ground truth."""

    database: str
    influx_url: str
    registry: Registry
    registry_path: Path
    sent: list[Sent]
    first_ms: int
    last_ms: int

    def values(
        self, quantity: str, *, device: str | None = None, village: str | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """(ts_ms, value) arrays of one quantity from the ground truth, optionally for one device or village."""
        rows = [
            (s.ts_ms, s.values[quantity])
            for s in self.sent
            if quantity in s.values
            and (device is None or s.device == device)
            and (village is None or s.village == village)
        ]
        array = np.array(rows, dtype=np.float64).reshape(-1, 2)
        return array[:, 0].astype(np.int64), array[:, 1]


def _samples(registry: Registry, ghost: RegisteredDevice, *, end_ms: int) -> dict[RegisteredDevice, list[Telemetry]]:
    fleet = Registry(villages=registry.villages, devices=(*registry.devices, ghost))
    times = [end_ms - k * INTERVAL_MS for k in range(DAYS * 24 * 12 - 1, -1, -1)]
    return {board.device: [board.sample(ts) for ts in times] for board in boards_for(fleet, seed=11)}


def _flag_last_co2(samples: dict[RegisteredDevice, list[Telemetry]], device_id: str) -> None:
    """The air board's last sample reports CO2 beyond the soft limit: stored, and flagged soft_limit."""
    for device, sent in samples.items():
        if device.id == device_id:
            last = sent[-1]
            sent[-1] = last.model_copy(update={"readings": {**last.readings, "co2": 1500.0}})


@pytest.fixture(scope="session")
def dataset(broker: Broker, influxdb: Database, tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    workdir = tmp_path_factory.mktemp("api-dataset")
    registry = demo_registry(villages=2, devices_per_kind=1, seed=7)
    registry_path = workdir / "registry.toml"
    registry_path.write_text(format_registry(registry))
    ghost = RegisteredDevice(id=GHOST, village="dau-tieng", kind="air", name="not registered", lat=0, lon=0)
    end_ms = time.time_ns() // 1_000_000 - 60_000
    samples = _samples(registry, ghost, end_ms=end_ms)
    _flag_last_co2(samples, "dau-tieng-air-01")
    database = unique_id("api").replace("-", "_")
    settings = IngestSettings(
        _env_file=None,  # type: ignore[call-arg]
        mqtt_url=broker.url,
        influx_url=influxdb.url,
        influx_db=database,
        data_dir=workdir / "data",
        ingest_client_id=unique_id("ingest"),
        ingest_batch_max_wait_ms=50,
    )
    ingestor = RunningIngestor(settings).start()
    try:
        messages = [
            (f"village/{device.village}/{device.id}/telemetry", encode_telemetry(sent[i : i + SAMPLES_PER_ARRAY]))
            for device, sent in samples.items()
            for i in range(0, len(sent), SAMPLES_PER_ARRAY)
        ]
        with mqtt_publisher(broker.url) as client:
            publish_all(client, messages)
        expected = sum(len(s) for s in samples.values())

        def stored() -> bool:
            rows = influx_rows(influxdb.url, database, 'SELECT count("bat") FROM "device"')
            return bool(rows) and rows[0]["count"] == expected

        eventually(stored, timeout_s=60, what=f"{expected} samples stored")
    finally:
        ingestor.close()
    truth = [
        Sent(d.village, d.id, int(t.ts), {**{k: float(v) for k, v in t.readings.items()}, "bat": t.bat, "rssi": t.rssi})
        for d, sent in samples.items()
        for t in sent
    ]
    return Dataset(database, influxdb.url, registry, registry_path, truth, min(s.ts_ms for s in truth), end_ms)


def api_settings(dataset: Dataset, **overrides: object) -> ApiSettings:
    """Settings of an API on the dataset: tokens of three scopes, reads not public unless overridden."""
    values: dict[str, object] = {
        "influx_url": dataset.influx_url,
        "influx_db": dataset.database,
        "registry_file": dataset.registry_path,
        "api_tokens": [
            {"token": ADMIN_TOKEN, "name": "ops", "scope": "admin"},
            {"token": PHU_AN_TOKEN, "name": "dau-tieng-officer", "villages": ["dau-tieng"]},
            READ_ALL_TOKEN,
        ],
        **overrides,
    }
    return ApiSettings(_env_file=None, **values)  # type: ignore[call-arg, arg-type]


@contextmanager
def serving(settings: ApiSettings, *, clock_ms: Callable[[], int] | None = None) -> Iterator[str]:
    """The app for `settings` served by uvicorn on a free loopback port, on a thread; yields its base URL."""
    port = free_port()
    app = create_app(settings, clock_ms=clock_ms) if clock_ms else create_app(settings)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, name=f"api-{port}", daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            return httpx.get(f"{url}/healthz", timeout=1).status_code in (200, 503)
        except httpx.HTTPError:
            return False

    eventually(up, timeout_s=20, what="API up")
    try:
        yield url
    finally:
        server.should_exit = True
        thread.join(10)
        assert not thread.is_alive(), "the API server did not stop"


@pytest.fixture(scope="session")
def api_url(dataset: Dataset) -> Iterator[str]:
    """The API on the dataset, tokens required."""
    with serving(api_settings(dataset)) as url:
        yield url


@pytest.fixture(scope="session")
def public_url(dataset: Dataset) -> Iterator[str]:
    """The API on the dataset with open-data reads (as `village up` runs it)."""
    with serving(api_settings(dataset, api_public_read=True, api_cors_origins=["https://map.example.org"])) as url:
        yield url


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="session")
def client(api_url: str) -> Iterator[httpx.Client]:
    """An HTTP client on the token-gated API, reading with the read-all token."""
    with httpx.Client(base_url=api_url, headers=bearer(READ_ALL_TOKEN), timeout=30) as http:
        yield http
