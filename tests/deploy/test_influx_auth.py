"""InfluxDB with authentication on, users made as the official image makes them: the split compose relies on.

The ingestor logs in as the admin (it creates retention policies and continuous queries); the API and Grafana log
in as a read-only user, so the service facing the Internet can never write or drop anything.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest

from ingest.settings import IngestSettings
from tests.conftest import RunningIngestor
from tests.helpers import eventually, mqtt_publisher, publish_all, unique_id, village_process
from village.processes import free_port, spawn, wait_until
from village.services import Database, influxd_config, require_binary

ADMIN = ("admin", "admin-pw-0123456789")
READER = ("reader", "reader-pw-0123456789")
NOW_MS = 1_764_489_600_000


def query(url: str, statement: str, *, auth: tuple[str, str] | None) -> httpx.Response:
    return httpx.post(f"{url}/query", data={"q": statement}, auth=auth, timeout=10)


@pytest.fixture(scope="module")
def secured_influxdb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    """influxd with `auth-enabled`; admin and read user created as init-influxdb.sh does on the first start."""
    data_dir = tmp_path_factory.mktemp("influxdb-auth")
    port, rpc_port = free_port(), free_port()
    config = influxd_config(data_dir, port, rpc_port).replace("[http]\n", "[http]\n  auth-enabled = true\n", 1)
    (data_dir / "influxdb.conf").write_text(config)
    process = spawn(
        "influxd-auth",
        [require_binary("influxd"), "-config", str(data_dir / "influxdb.conf")],
        log_path=data_dir / "influxd.log",
    )
    database = Database(process, port, data_dir, rpc_port)

    def ready() -> bool:
        try:
            return httpx.get(f"{database.url}/ping", timeout=0.5).status_code == 204
        except httpx.HTTPError:
            return False

    try:
        wait_until(ready, timeout_s=30, what="influxd with auth", process=process)
        statements = [
            (f"CREATE USER {ADMIN[0]} WITH PASSWORD '{ADMIN[1]}' WITH ALL PRIVILEGES", None),
            (f"CREATE USER {READER[0]} WITH PASSWORD '{READER[1]}'", ADMIN),
        ]
        for statement, auth in statements:
            assert query(database.url, statement, auth=auth).status_code == 200, statement
        yield database
    finally:
        process.stop()


def test_the_ingestor_as_admin_and_the_api_as_reader(
    broker, secured_influxdb, database_name, village_id, tmp_path: Path
) -> None:
    url = secured_influxdb.url
    assert query(url, f'CREATE DATABASE "{database_name}"', auth=ADMIN).status_code == 200  # INFLUXDB_DB
    grant = query(url, f'GRANT READ ON "{database_name}" TO "{READER[0]}"', auth=ADMIN)
    assert grant.status_code == 200
    settings = IngestSettings(
        _env_file=None,  # type: ignore[call-arg]
        mqtt_url=broker.url,
        influx_url=url,
        influx_db=database_name,
        influx_username=ADMIN[0],
        influx_password=ADMIN[1],  # type: ignore[arg-type]
        data_dir=tmp_path / "data",
        ingest_client_id=unique_id("ingest"),
        ingest_batch_max_wait_ms=50,
    )
    ingestor = RunningIngestor(settings).start()  # created the downsampling tiers: needs the admin
    try:
        payload = orjson.dumps({"ts": NOW_MS, "readings": {"ph": 7.25}})
        with mqtt_publisher(broker.url) as client:
            publish_all(client, [(f"village/{village_id}/dev-1/telemetry", payload)])
        api_port = free_port()
        env = {
            "VILLAGE_INFLUX_URL": url,
            "VILLAGE_INFLUX_DB": database_name,
            "VILLAGE_INFLUX_USERNAME": READER[0],
            "VILLAGE_INFLUX_PASSWORD": READER[1],
            "VILLAGE_API_PUBLIC_READ": "1",
            "VILLAGE_DATA_DIR": str(tmp_path / "api"),
        }
        api = village_process("api", "api", "--port", str(api_port), env=env, log_dir=tmp_path)
        try:

            def latest_ph() -> float | None:
                try:
                    response = httpx.get(f"http://127.0.0.1:{api_port}/api/v1/devices/dev-1/latest", timeout=2)
                except httpx.HTTPError:
                    return None
                return response.json()["readings"]["ph"]["value"] if response.status_code == 200 else None

            assert eventually(latest_ph, timeout_s=20, what=f"API serves the reading\n{api.log_tail()}") == 7.25
        finally:
            assert api.stop() == 0
    finally:
        ingestor.close()
    rps = query(url, f'SHOW RETENTION POLICIES ON "{database_name}"', auth=READER).json()
    assert {"hourly", "daily"} <= {row[0] for row in rps["results"][0]["series"][0]["values"]}
    refused = httpx.post(
        f"{url}/write", params={"db": database_name}, content=b"water,device=x ph=1", auth=READER, timeout=10
    )
    assert refused.status_code == 403
    dropped = query(url, f'DROP DATABASE "{database_name}"', auth=READER)
    assert (dropped.status_code, "requires admin privilege" in dropped.text) == (403, True)
    assert query(url, "SHOW DATABASES", auth=None).status_code == 401
