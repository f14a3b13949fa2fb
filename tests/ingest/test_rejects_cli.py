"""`village rejects list|replay` on a real rejected store, InfluxDB and broker: refused, fixed, re-ingested."""

from __future__ import annotations

from pathlib import Path

import httpx
import orjson
from click.testing import CliRunner

from devices.influxql import query_form
from devices.reasons import RejectReason
from devices.registry import RegisteredDevice, Registry, Village, format_registry
from ingest.messages import InboundMessage
from ingest.rejects import RejectedStore, read_entries, read_ledger
from ingest.samples import Rejection
from ingest.settings import IngestSettings
from tests.conftest import RunningIngestor
from tests.helpers import eventually, influx_count, mqtt_publisher, publish_all, telemetry_message
from village.cli import main

NOW_MS = 1_764_489_600_000


def run(settings: IngestSettings, *args: str) -> str:
    env = {
        "VILLAGE_INFLUX_URL": settings.influx_url,
        "VILLAGE_INFLUX_DB": settings.influx_db,
        "VILLAGE_DATA_DIR": str(settings.data_dir),
        "VILLAGE_INGEST_UNKNOWN_DEVICES": settings.ingest_unknown_devices,
        "COLUMNS": "250",  # the table, unwrapped
    }
    result = CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def influxql(settings: IngestSettings, statement: str) -> None:
    response = httpx.post(
        f"{settings.influx_url}/query", data=query_form(statement, database=settings.influx_db), timeout=10
    )
    response.raise_for_status()


def test_lines_influxdb_refuses_are_kept_and_replayed_after_the_fix(
    broker, influxdb, ingest_settings: IngestSettings, village_id
) -> None:
    settings = ingest_settings
    ingestor = RunningIngestor(settings).start()
    try:  # someone wrote pm25 as an integer: InfluxDB now refuses float pm25 in that shard
        httpx.post(
            f"{settings.influx_url}/write",
            params={"db": settings.influx_db, "precision": "ms"},
            content=f"air,device=legacy,village={village_id} pm25=12i {NOW_MS}".encode(),
            timeout=10,
        ).raise_for_status()
        with mqtt_publisher(broker.url) as client:
            publish_all(client, [
                telemetry_message(village_id, "a1", {"pm25": 20.0, "ph": 7.0}, NOW_MS + 1),
                telemetry_message(village_id, "a2", {"pm25": 21.0}, NOW_MS + 2),
                telemetry_message(village_id, "w1", {"ph": 7.1}, NOW_MS + 3),
            ])  # fmt: skip
        eventually(lambda: ingestor.service.counters.messages == 3, what="3 messages processed")
    finally:
        ingestor.close()
    assert influx_count(settings.influx_url, settings.influx_db, "ph") == 2  # the rest of each message is stored
    listed = [orjson.loads(line) for line in run(settings, "rejects", "list", "--json").splitlines()]
    assert sorted((e["topic"], [r["reason"] for r in e["rejections"]]) for e in listed) == [
        (f"village/{village_id}/a1/telemetry", ["write_refused"]),
        (f"village/{village_id}/a2/telemetry", ["write_refused"]),
    ]
    assert "field type conflict" not in listed[0]["rejections"][0]["detail"]  # it names the refused line
    assert "pm25=2" in listed[0]["rejections"][0]["detail"]
    table = run(settings, "rejects", "list", "--device", "a2")
    assert "write_refused" in table and "a1/telemetry" not in table
    influxql(settings, 'DROP MEASUREMENT "air"')  # the fix
    output = run(settings, "rejects", "replay", "--reason", "write_refused")
    assert "Replayed 2 messages: stored 3 readings; refused again: none." in output
    assert influx_count(settings.influx_url, settings.influx_db, "pm25", "air") == 2
    assert influx_count(settings.influx_url, settings.influx_db, "ph") == 2  # rewritten, not doubled
    assert read_ledger(settings.rejects_dir) == {e["id"] for e in listed}
    assert "Nothing to replay." in run(settings, "rejects", "replay")
    assert all(e["replayed"] for e in map(orjson.loads, run(settings, "rejects", "list", "--json").splitlines()))


def test_replay_after_registering_a_device_keeps_the_original_receive_time(
    broker, influxdb, ingest_settings: IngestSettings, village_id
) -> None:
    settings = ingest_settings.model_copy(update={"ingest_unknown_devices": "reject"})
    registry = Registry(villages=(Village(id=village_id, name="V", lat=11, lon=106),))
    settings.registry_path.parent.mkdir(parents=True, exist_ok=True)
    settings.registry_path.write_text(format_registry(registry))
    ingestor = RunningIngestor(settings).start()
    try:
        with mqtt_publisher(broker.url) as client:  # a board without a clock: its time is the receive time
            publish_all(client, [(f"village/{village_id}/late-1/telemetry", b'{"readings": {"ph": 6.9}}')])
        eventually(lambda: list(read_entries(settings.rejects_dir)), what="rejected as unknown_device")
    finally:
        ingestor.close()
    (entry,) = read_entries(settings.rejects_dir)
    assert entry.reasons == ["unknown_device"]
    output = run(settings, "rejects", "replay", "--dry-run")
    assert "would store 0 readings; refused again: unknown_device 1" in output
    board = RegisteredDevice(id="late-1", village=village_id, kind="water", name="Late", lat=11, lon=106)
    settings.registry_path.write_text(format_registry(registry.with_device(board)))
    assert "stored 1 readings" in run(settings, "rejects", "replay", "--device", "late-1")
    rows = httpx.post(
        f"{settings.influx_url}/query",
        data=query_form("SELECT ph FROM water", database=settings.influx_db),
        timeout=10,
    ).json()["results"][0]["series"][0]["values"]
    assert rows == [[entry.data["received_ms"], 6.9]]


def test_the_store_rotates_and_prunes_the_oldest_files_beyond_its_quota(tmp_path: Path) -> None:
    store = RejectedStore(tmp_path, instance="i/1", file_bytes=4096, max_bytes=3 * 4096)
    message = InboundMessage("village/v/d/telemetry", b"x" * 500, 1, False, 1, NOW_MS, 1)
    for _ in range(40):
        store.record([message], [Rejection(0, RejectReason.MALFORMED_JSON, "bad")])
    store.close()
    files = list(tmp_path.glob("*.jsonl"))
    assert store.pruned_files > 0
    assert sum(f.stat().st_size for f in files) <= 4 * 4096
    assert all(f.name.startswith("i-1-") for f in files)  # the instance name made safe for a file name
    entries = list(read_entries(tmp_path))
    assert entries and all(e.payload == b"x" * 500 and e.reasons == ["malformed_json"] for e in entries)
