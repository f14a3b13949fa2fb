"""The ingestor against real mosquitto and InfluxDB: stores what is good, rejects what is bad, keeps going."""

from __future__ import annotations

import logging

import orjson
import pytest

from tests.conftest import RunningIngestor
from tests.helpers import eventually, influx_rows, mqtt_publisher, publish_all

NOW_MS = 1_764_489_600_000


def telemetry(village: str, device: str, readings: dict[str, object], ts_ms: int) -> tuple[str, bytes]:
    return f"village/{village}/{device}/telemetry", orjson.dumps({"ts": ts_ms, "readings": readings})


def test_good_readings_are_stored_exactly(broker, influxdb, ingestor, village_id) -> None:
    messages = [telemetry(village_id, f"d{i}", {"ph": 7.0 + i / 100, "do": 6.5}, NOW_MS + i) for i in range(50)]
    with mqtt_publisher(broker.url) as client:
        publish_all(client, messages)
    db = ingestor.settings.influx_db
    rows = eventually(
        lambda: len(r := influx_rows(influxdb.url, db, "SELECT * FROM water")) == 50 and r, what="50 rows stored"
    )
    assert sorted((r["device"], r["time"], r["ph"], r["do"], r["village"]) for r in rows) == sorted(
        (f"d{i}", NOW_MS + i, 7.0 + i / 100, 6.5, village_id) for i in range(50)
    )


def test_bad_input_is_rejected_with_a_reason_and_loses_nothing_else(
    broker, influxdb, ingestor, village_id, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="ingest")
    good = {"ph": 7.1, "turbidity": 3.0}
    messages = [
        (f"village/{village_id}/dev-a/telemetry", b'{"ts": 1764489600000, "readings": {"ph": 7.2'),  # malformed
        telemetry(village_id, "dev-b", {"ph": 7.3, "radiation": 1.0}, NOW_MS),  # unknown quantity
        telemetry(village_id, "dev-c", {"ph": 7.4, "turbidity": 5000}, NOW_MS),  # beyond hard limit
        (f"village/{village_id}/dev-d/telemetry", b'{"ts": 1764489600000, "readings": {"ph": NaN, "do": 6.1}}'),
        telemetry(village_id, "dev,e", good, NOW_MS),  # identifiers with a comma ...
        telemetry(village_id, "dev e", good, NOW_MS),  # ... a space
        telemetry(village_id, 'dev"e', good, NOW_MS),  # ... a quote
        telemetry(village_id, "dev-f", {"ph,x=1 y": 7.0, "ph\nair x=1": 1.0, "ph": 7.5}, NOW_MS),  # injection
        telemetry(village_id, "dev-g", good, NOW_MS),  # and a good one after all that
    ]
    with mqtt_publisher(broker.url) as client:
        publish_all(client, messages)
    db = ingestor.settings.influx_db
    query = "SELECT * FROM water"
    eventually(
        lambda: {r["device"] for r in influx_rows(influxdb.url, db, query)} >= {"dev-f", "dev-g"}, what="good rows"
    )
    stored = {
        (r["device"], k): v
        for r in influx_rows(influxdb.url, db, query)
        for k, v in r.items()
        if k in good or k == "do"
    }
    assert {k: v for k, v in stored.items() if v is not None} == {
        ("dev-b", "ph"): 7.3,
        ("dev-c", "ph"): 7.4,
        ("dev-d", "do"): 6.1,
        ("dev-f", "ph"): 7.5,
        ("dev-g", "ph"): 7.1,
        ("dev-g", "turbidity"): 3.0,
    }
    log = caplog.text
    assert "\nair" not in log, "a newline inside a payload must not start a new log line"
    for expected in (
        f"village/{village_id}/dev-a/telemetry': malformed_json",
        "'radiation': unknown_quantity",
        "'turbidity': hard_limit (5000.0 NTU outside the physical range 0…1000 NTU)",
        "'ph': non_finite",
        "dev,e/telemetry': invalid_topic",
        "dev e/telemetry': invalid_topic",
        """dev"e/telemetry': invalid_topic""",
        "'ph,x=1 y': unknown_quantity",
        "'ph\\nair x=1': unknown_quantity",
    ):
        assert expected in log, f"{expected!r} not logged"
    measurements = influx_rows(influxdb.url, db, "SHOW MEASUREMENTS")
    assert {m["name"] for m in measurements} <= {"water", "quality"}
    assert {r["device"] for r in influx_rows(influxdb.url, db, query)} == {"dev-b", "dev-c", "dev-d", "dev-f", "dev-g"}


def test_a_newline_in_a_topic_never_reaches_the_ingestor(broker, influxdb, ingestor, village_id) -> None:
    with mqtt_publisher(broker.url) as hostile:  # mosquitto drops a client that sends a control character
        hostile.publish(f"village/{village_id}/dev\nx/telemetry", b'{"readings": {"ph": 7}}', qos=0)
    with mqtt_publisher(broker.url) as client:
        publish_all(client, [telemetry(village_id, "after", {"ph": 7.0}, NOW_MS)])
    db = ingestor.settings.influx_db
    rows = eventually(lambda: influx_rows(influxdb.url, db, "SELECT * FROM water"), what="the good message")
    assert [r["device"] for r in rows] == ["after"]


def test_acknowledged_messages_are_not_redelivered(broker, influxdb, ingest_settings, village_id) -> None:
    first = RunningIngestor(ingest_settings).start()
    with mqtt_publisher(broker.url) as client:
        publish_all(client, [telemetry(village_id, "d1", {"ph": 7.0}, NOW_MS + i) for i in range(20)])
    eventually(lambda: first.service.counters.messages == 20, what="20 messages processed")
    first.close()
    # Same client id, persistent session: only messages published while it was away arrive.
    with mqtt_publisher(broker.url) as client:
        publish_all(client, [telemetry(village_id, "d1", {"ph": 7.0}, NOW_MS + 100 + i) for i in range(5)])
    second = RunningIngestor(ingest_settings).start()
    try:
        eventually(lambda: second.service.counters.messages >= 5, what="queued messages delivered")
        rows = influx_rows(influxdb.url, ingest_settings.influx_db, "SELECT count(ph) FROM water")
        assert rows[0]["count"] == 25
        assert second.service.counters.messages == 5
    finally:
        second.close()
