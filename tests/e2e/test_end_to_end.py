"""The whole path with real processes: simulator → mosquitto → ingestor → InfluxDB → API."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest

from devices.registry import parse_registry
from simulators.truth import published, read_truth
from tests.helpers import eventually, village_process
from village.processes import free_port

pytestmark = pytest.mark.e2e


@pytest.fixture
def stack_env(broker, influxdb, database_name, tmp_path: Path) -> dict[str, str]:
    return {
        "VILLAGE_MQTT_URL": broker.url,
        "VILLAGE_INFLUX_URL": influxdb.url,
        "VILLAGE_INFLUX_DB": database_name,
        "VILLAGE_DATA_DIR": str(tmp_path / "data"),
        "VILLAGE_INGEST_CLIENT_ID": f"e2e-{database_name}",
        "VILLAGE_API_PUBLIC_READ": "1",
    }


@pytest.fixture
def api_url(stack_env: dict[str, str], tmp_path: Path) -> Iterator[str]:
    port = free_port()
    api = village_process("api", "api", "--port", str(port), env=stack_env, log_dir=tmp_path)
    url = f"http://127.0.0.1:{port}"
    eventually(lambda: _get(f"{url}/healthz") == 200, timeout_s=20, what=f"API up\n{api.log_tail()}")
    yield url
    assert api.stop() == 0


def _get(url: str) -> int:
    try:
        return httpx.get(url, timeout=2).status_code
    except httpx.HTTPError:
        return 0


def expected_latest(truth_path: Path) -> dict[str, dict[str, float]]:
    """Per device, the value with the latest device time for each quantity, from what was actually sent."""
    latest: dict[str, dict[str, tuple[int, float]]] = {}
    for entry in published(read_truth(truth_path), channel="telemetry"):
        payload = orjson.loads(str(entry["payload"]))
        device = str(entry["topic"]).split("/")[2]
        values = {**payload["readings"], "bat": payload["bat"], "rssi": payload["rssi"]}
        for quantity, value in values.items():
            seen = latest.setdefault(device, {}).get(quantity)
            if seen is None or payload["ts"] >= seen[0]:
                latest[device][quantity] = (payload["ts"], float(value))
    return {device: {q: v for q, (_, v) in found.items()} for device, found in latest.items()}


def test_simulated_readings_reach_the_api_unchanged(stack_env, api_url, tmp_path: Path) -> None:
    ingest = village_process("ingest", "ingest", env=stack_env, log_dir=tmp_path)
    eventually(lambda: "subscribed to" in ingest.log_path.read_text(), timeout_s=20, what="ingestor subscribed")
    truth_path, registry_path = tmp_path / "truth.jsonl", tmp_path / "registry.toml"
    simulate = village_process(
        "simulate", "simulate", "--villages", "2", "--devices-per-kind", "1", "--count", "3", "--interval", "0",
        "--seed", "42", "--truth", str(truth_path), "--registry", str(registry_path),
        env=stack_env, log_dir=tmp_path,
    )  # fmt: skip
    eventually(lambda: not simulate.alive(), timeout_s=60, what="simulator finished")
    assert simulate.popen.returncode == 0, simulate.log_tail()
    expected = expected_latest(truth_path)
    devices = {d.id for d in parse_registry(registry_path.read_text()).devices}
    assert set(expected) == devices and len(devices) == 6
    assert len(published(read_truth(truth_path), channel="telemetry")) == 18

    def latest(device: str) -> dict[str, float] | None:
        response = httpx.get(f"{api_url}/api/v1/devices/{device}/latest", timeout=5)
        if response.status_code != 200:
            return None
        readings = response.json()["readings"]
        return {q: r["value"] for q, r in readings.items()}

    for device, values in expected.items():
        eventually(lambda d=device, v=values: latest(d) == v, timeout_s=20, what=f"{device} latest = sent")
    ingest.stop()
    assert ingest.popen.returncode == 0, ingest.log_tail()
    stopped = re.search(r"ingestor stopped: (\d+) messages \(([^)]*)\)", ingest.log_path.read_text())
    assert stopped is not None
    by_channel = dict(part.split(" ") for part in stopped.group(2).split(", "))
    # Exactly the simulator's 18 telemetry messages. Status messages are its own 12 (online at connect, offline
    # at the clean end) plus any retained status other tests left on the session's broker for the same demo
    # boards: a new subscription receives those too.
    assert by_channel["telemetry"] == "18"
    assert int(by_channel.get("status", "0")) >= len(published(read_truth(truth_path), channel="status"))


def test_unknown_device_is_a_clean_404(api_url) -> None:
    response = httpx.get(f"{api_url}/api/v1/devices/no-such-device/latest")
    assert response.status_code == 404
    assert response.json() == {
        "error": {"code": "device_not_found", "message": "no readings for device 'no-such-device'"}
    }
    bad = httpx.get(f"{api_url}/api/v1/devices/Bad%20Id/latest")
    assert bad.status_code == 422
    assert bad.json()["error"]["code"] == "invalid_request"
