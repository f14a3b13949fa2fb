"""No parameter can change a query: injection attempts answer 422 or nothing; limits and outages answer cleanly."""

from __future__ import annotations

import os
import signal
import socket
import time
from urllib.parse import quote

import httpx
import pytest

from tests.api.conftest import READ_ALL_TOKEN, Dataset, api_settings, bearer, serving
from tests.helpers import influx_rows
from village.services import Database

ATTACKS = [
    "x' OR 1=1 --",
    'pm25") FROM air; DROP DATABASE village --',
    "dau-tieng'; DROP SERIES FROM air WHERE '1'='1",
    "$p0",
    "a\nb",
    "/.*/",
    "now() - 1000d",
    "1h), time(1m",
    "UTC') ; DROP DATABASE x; --",
]
SERIES = {"device": "dau-tieng-air-01", "quantity": "pm25"}
CASES = (
    [
        ("/api/v1/series", {**SERIES, name: attack})
        for name in (
            "device",
            "village",
            "quantity",
            "start",
            "stop",
            "every",
            "agg",
            "fill",
            "tz",
            "group_by",
            "tier",
            "format",
        )
        for attack in ATTACKS
    ]
    + [
        ("/api/v1/villages/dau-tieng/summary", {name: attack})
        for name in ("window", "stop", "tz")
        for attack in ATTACKS
    ]
    + [("/api/v1/devices", {"village": attack}) for attack in ATTACKS]
    + [("/api/v1/stations", {name: attack}) for name in ("village", "kind") for attack in ATTACKS]
)


def data_fingerprint(dataset: Dataset) -> list[dict[str, object]]:
    return influx_rows(dataset.influx_url, dataset.database, 'SELECT count("pm25"), sum("pm25") FROM "air"')


@pytest.mark.parametrize(("path", "params"), CASES)
def test_injection_attempts_are_refused_or_match_nothing(client: httpx.Client, path: str, params: dict) -> None:
    response = client.get(path, params=params)
    assert response.status_code in (403, 404, 422) or (response.status_code == 200 and _empty(response.json()))
    if response.status_code != 200:
        assert set(response.json()["error"]) >= {"code", "message"}


def _empty(body: dict) -> bool:
    return body.get("series") == [] or body.get("devices") == [] or body.get("features") == []


@pytest.mark.parametrize("attack", ATTACKS)
def test_injection_in_the_path_is_refused(client: httpx.Client, attack: str) -> None:
    for template in ("/api/v1/devices/{}/latest", "/api/v1/villages/{}/summary"):
        response = client.get(template.format(quote(attack, safe="")))
        assert response.status_code in (404, 422), (template, attack, response.text)


def test_data_is_unchanged_after_every_attack(client: httpx.Client, dataset: Dataset) -> None:
    before = data_fingerprint(dataset)
    for path, params in CASES:
        client.get(path, params=params)
    assert data_fingerprint(dataset) == before and before[0]["count"] > 0


def test_answers_that_would_be_too_large_are_refused_before_querying(client: httpx.Client) -> None:
    huge = client.get("/api/v1/series", params={**SERIES, "every": "1m", "start": "now-93d"})
    assert huge.status_code == 422 and huge.json()["error"]["code"] == "too_many_points"
    raw_year = client.get("/api/v1/series", params={**SERIES, "every": "1d", "agg": "p95", "start": "now-365d"})
    assert raw_year.status_code == 422 and raw_year.json()["error"]["code"] == "range_too_long"
    backwards = client.get("/api/v1/series", params={**SERIES, "start": "now", "stop": "now-1d"})
    assert backwards.status_code == 422 and backwards.json()["error"]["code"] == "invalid_range"
    tiny = client.get("/api/v1/series", params={**SERIES, "every": "30s"})
    assert tiny.status_code == 422


def test_influxdb_too_slow_is_504_and_unreachable_is_503(dataset: Dataset, influxdb: Database) -> None:
    with serving(api_settings(dataset, api_query_timeout_s=0.5)) as url:
        os.kill(influxdb.process.pid, signal.SIGSTOP)  # InfluxDB hangs for real: frozen, its socket still open
        try:
            began = time.monotonic()
            slow = httpx.get(f"{url}/api/v1/villages/dau-tieng/summary", headers=bearer(READ_ALL_TOKEN), timeout=10)
            waited_s = time.monotonic() - began
        finally:
            os.kill(influxdb.process.pid, signal.SIGCONT)
    assert slow.status_code == 504, slow.text
    assert waited_s < 3  # the deadline, not a hang
    assert slow.json()["error"]["code"] == "influxdb_timeout"
    with socket.socket() as held:  # bound, never listening: connections are refused, and no one else gets the port
        held.bind(("127.0.0.1", 0))
        with serving(api_settings(dataset, influx_url=f"http://127.0.0.1:{held.getsockname()[1]}")) as url:
            down = httpx.get(f"{url}/api/v1/devices", headers=bearer(READ_ALL_TOKEN), timeout=10)
            health = httpx.get(f"{url}/healthz", timeout=10)
    assert down.status_code == 503, down.text
    assert down.json()["error"]["code"] == "influxdb_unreachable"
    assert down.headers["retry-after"] == "5"
    assert health.status_code == 503 and health.json() == {"status": "degraded", "influxdb": "unreachable"}
