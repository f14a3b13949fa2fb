"""The whole hostile corpus through mosquitto, a real ingestor (policy reject, as in production) and InfluxDB.

Afterwards: each case's rejections are in the rejected store with the promised reasons and the raw payload; each
case's promised readings, and nothing else, are in InfluxDB; the database holds only the schema's measurements,
tags and float fields, every tag value an identifier; the ingestor is still up and stores the next message.
"""

from __future__ import annotations

import base64
import time
from collections import defaultdict
from pathlib import Path

from devices.ids import is_identifier
from devices.registry import format_registry
from devices.schema import DATA_MEASUREMENTS, MEASUREMENTS
from ingest.rejects import read_entries
from ingest.settings import IngestSettings
from tests.conftest import RunningIngestor
from tests.helpers import eventually, influx_rows, mqtt_publisher, publish_all, telemetry_message, unique_id
from tests.hostile.corpus import Case, T, load_cases, registry

RECEIVE_WINDOW_MS = 2_000


def test_the_hostile_corpus_end_to_end(broker, influxdb, ingest_settings: IngestSettings, tmp_path: Path) -> None:
    village, other = unique_id("hv"), unique_id("ho")
    cases = load_cases(village, other)
    registry_path = tmp_path / "registry.toml"
    registry_path.write_text(format_registry(registry(village, other, cases)), encoding="utf-8")
    settings = ingest_settings.model_copy(
        update={"ingest_unknown_devices": "reject", "registry_file": registry_path, "ingest_metrics_port": 0}
    )
    ingestor = RunningIngestor(settings).start()
    try:
        sent_ms = time.time_ns() // 1_000_000
        delivered = [c for c in cases if c.reaches_ingestor]
        with mqtt_publisher(broker.url) as client:
            publish_all(client, [(c.topic, c.payload) for c in cases if not c.broker_refuses])
        for case in cases:
            if case.broker_refuses:
                assert broker_closes_the_publisher(broker.url, case), case.name
        eventually(
            lambda: ingestor.service.counters.messages >= len(delivered), timeout_s=60, what="every case ingested"
        )
        canary = telemetry_message(village, cases[0].device, {"ph": 7.25}, T + 99)
        with mqtt_publisher(broker.url) as client:
            publish_all(client, [canary])
        eventually(lambda: stored_by_device(settings, village).get(cases[0].device), what="the canary stored")
        assert ingestor.error is None
        check_rejected_store(settings, cases)
        check_stored(settings, village, cases, sent_ms=sent_ms)
        check_schema(settings)
    finally:
        ingestor.close()


def broker_closes_the_publisher(broker_url: str, case: Case) -> bool:
    """Publish on a connection of its own; mosquitto closes it as a malformed packet (control characters)."""
    closed: list[object] = []
    with mqtt_publisher(broker_url) as client:
        client.on_disconnect = lambda *args: closed.append(args)
        client.publish(case.topic, case.payload, qos=1)
        eventually(lambda: closed, timeout_s=10, what=f"{case.name}: the broker closed the connection")
    return bool(closed)


def check_rejected_store(settings: IngestSettings, cases: list[Case]) -> None:
    by_topic: dict[str, list[dict[str, object]]] = defaultdict(list)
    for entry in read_entries(settings.rejects_dir):
        if entry.data.get("retain"):
            continue  # a retained status another test left on the session's broker: no case publishes retained
        by_topic[str(entry.data["topic"])].append(entry.data)
    for case in cases:
        entries = by_topic.pop(case.topic, [])
        if not case.reaches_ingestor or not case.expect:
            assert not entries, f"{case.name}: unexpected rejections {entries}"
            continue
        assert len(entries) == 1, f"{case.name}: {len(entries)} entries"
        (entry,) = entries
        reasons = sorted(str(r["reason"]) for r in entry["rejections"])  # type: ignore[attr-defined]
        assert reasons == list(case.expect), case.name
        raw = base64.b64decode(str(entry["payload_b64"])) if "payload_b64" in entry else str(entry["payload"]).encode()
        assert raw == case.payload, f"{case.name}: the stored payload is not the one published"
    assert not by_topic, f"entries for topics no case published: {list(by_topic)[:5]}"


def stored_by_device(settings: IngestSettings, village: str) -> dict[str, list[tuple[str, float, int]]]:
    """(quantity, value, time) of every reading in the data measurements, per device of `village`."""
    found: dict[str, list[tuple[str, float, int]]] = defaultdict(list)
    for measurement in DATA_MEASUREMENTS:
        query = f'SELECT * FROM "{measurement.name}" WHERE "village" = $village'
        for row in influx_rows(settings.influx_url, settings.influx_db, query, {"village": village}):
            for quantity in measurement.fields:
                if row.get(quantity) is not None:
                    found[str(row["device"])].append((quantity, float(row[quantity]), int(row["time"])))  # type: ignore[arg-type]
    return dict(found)


def check_stored(settings: IngestSettings, village: str, cases: list[Case], *, sent_ms: int) -> None:
    stored = stored_by_device(settings, village)
    for case in cases:
        readings = [r for r in stored.pop(case.device, []) if r[2] != T + 99]  # less the canary
        values: dict[str, list[float]] = defaultdict(list)
        for quantity, value, ts_ms in readings:
            values[quantity].append(value)
            if case.at == "receive":
                assert sent_ms - RECEIVE_WINDOW_MS <= ts_ms <= time.time_ns() // 1_000_000, case.name
            else:
                assert ts_ms < sent_ms - 60_000, f"{case.name}: stored at the receive time"
        expected = case.stored if case.reaches_ingestor else {}
        assert {q: sorted(v) for q, v in values.items()} == {q: sorted(v) for q, v in expected.items()}, case.name
    assert not stored, f"readings of devices no case published: {list(stored)}"


def check_schema(settings: IngestSettings) -> None:
    """Nothing a payload or a topic carried became a measurement, a tag, a field or a non-float value."""
    url, db = settings.influx_url, settings.influx_db
    measurements = {str(r["name"]) for r in influx_rows(url, db, "SHOW MEASUREMENTS")}
    assert measurements <= set(MEASUREMENTS), measurements - set(MEASUREMENTS)
    for name in measurements:
        schema = MEASUREMENTS[name]
        fields = {
            str(r["fieldKey"]): str(r["fieldType"]) for r in influx_rows(url, db, f'SHOW FIELD KEYS FROM "{name}"')
        }
        assert set(fields) <= set(schema.fields) and set(fields.values()) == {"float"}, (name, fields)
        tags = {str(r["tagKey"]) for r in influx_rows(url, db, f'SHOW TAG KEYS FROM "{name}"')}
        assert tags <= set(schema.tags), (name, tags)
        for tag in tags:
            rows = influx_rows(url, db, f'SHOW TAG VALUES FROM "{name}" WITH KEY = "{tag}"')
            assert all(is_identifier(r["value"]) for r in rows), (name, tag, [r["value"] for r in rows][:5])
