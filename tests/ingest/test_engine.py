"""The ingest engine against real mosquitto and InfluxDB: poison, SenML, status, registry, seq, metrics."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

import ingest.decode
from devices.registry import RegisteredDevice, Registry, Village, format_registry
from devices.senml import encode_senml
from ingest.rejects import read_entries
from ingest.settings import IngestSettings
from tests.conftest import RunningIngestor
from tests.helpers import (
    eventually,
    influx_count,
    influx_rows,
    metric,
    mqtt_collector,
    mqtt_publisher,
    publish_all,
    telemetry_message,
    village_process,
)

NOW_MS = 1_764_489_600_000


@pytest.fixture
def running(ingest_settings: IngestSettings) -> Iterator[RunningIngestor]:
    ingestor = RunningIngestor(ingest_settings.model_copy(update={"ingest_metrics_port": 0})).start()
    yield ingestor
    ingestor.close()


def write_registry(path: Path, village: str, *devices: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    boards = tuple(RegisteredDevice(id=d, village=village, kind="water", name=d, lat=11, lon=106) for d in devices)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(
        format_registry(Registry(villages=(Village(id=village, name=village, lat=11, lon=106),), devices=boards))
    )
    tmp.rename(path)


def rejected_reasons(settings: IngestSettings) -> dict[str, list[str]]:
    """Topic → reasons of every entry in the rejected store."""
    found: dict[str, list[str]] = {}
    for entry in read_entries(settings.rejects_dir):
        found.setdefault(str(entry.data["topic"]), []).extend(entry.reasons)
    return found


def test_poison_messages_are_kept_with_their_reason_and_every_good_reading_is_stored(
    broker, influxdb, running, village_id
) -> None:
    v = village_id
    good = [telemetry_message(v, f"good-{i % 10}", {"ph": 7.0, "do": 6.5}, NOW_MS + i) for i in range(200)]
    poison = {
        f"village/{v}/p-json/telemetry": (b'{"readings": {"ph": 7.2', ["malformed_json"]),
        f"village/{v}/p-quantity/telemetry": (
            orjson.dumps({"ts": NOW_MS, "readings": {"radiation": 1, "ph": 7.1}}),
            ["unknown_quantity"],
        ),
        f"village/{v}/p-limit/telemetry": (orjson.dumps({"ts": NOW_MS, "readings": {"ph": 15}}), ["hard_limit"]),
        f"village/{v}/p-nan/telemetry": (b'{"ts": 1764489600000, "readings": {"do": NaN}}', ["non_finite"]),
        f"village/{v}/p-shape/telemetry": (orjson.dumps({"ts": NOW_MS, "values": {"ph": 7}}), ["invalid_payload"]),
        f"village/{v}/p-array/telemetry": (
            orjson.dumps([{"ts": NOW_MS, "readings": {"ph": 7}}, {"readings": "no"}, {"readings": {"ph": "7"}}]),
            ["invalid_payload", "not_a_number"],
        ),
        f"village/{v}/p-big/telemetry": (
            b'{"readings": {"ph": 7}, "pad": "' + b"x" * 300_000 + b'"}',
            ["payload_too_large"],
        ),
        f"village/{v}/p-bytes/telemetry": (b"\xff\xfe\x00garbage", ["malformed_json"]),
        f"village/{v}/p-status/status": (b"sleeping", ["invalid_payload"]),
        f"village/{v}/p-senml/senml": (orjson.dumps([{"n": "ph", "v": 7, "x_": 1}]), ["invalid_senml"]),
        f"village/{v}/p-unit/senml": (orjson.dumps([{"n": "pm25", "u": "Cel", "v": 7}]), ["unit_unconvertible"]),
        f"village/{v}/Bad-Id/telemetry": (orjson.dumps({"readings": {"ph": 7}}), ["invalid_topic"]),
    }
    stream = []
    for i, (topic, (payload, _)) in enumerate(poison.items()):
        stream += [*good[i * 15 : (i + 1) * 15], (topic, payload)]
    stream += good[len(poison) * 15 :]
    with mqtt_collector(broker.url, f"village/{v}/+/rejected") as notices, mqtt_publisher(broker.url) as client:
        publish_all(client, stream)
        db = running.settings.influx_db
        eventually(lambda: running.service.counters.messages == len(stream), what="every message processed")
        eventually(lambda: len(notices) >= len(poison) - 1, what="a notice per device with a valid topic")
    assert influx_count(influxdb.url, db, "do", where="WHERE device =~ /^good/") == 200
    assert influx_count(influxdb.url, db, "ph") == 200 + 2  # the good ones, p-quantity's ph and p-array's first
    assert rejected_reasons(running.settings) == {topic: reasons for topic, (_, reasons) in poison.items()}
    notice = {t: orjson.loads(p) for t, p in notices}[f"village/{v}/p-limit/rejected"]
    assert notice["topic"] == f"village/{v}/p-limit/telemetry"
    assert notice["rejections"][0]["reason"] == "hard_limit" and "physical range" in notice["rejections"][0]["detail"]
    port = running.service.metrics_port
    assert metric(port, "village_ingest_rejected_total", reason="malformed_json") == 2
    assert metric(port, "village_ingest_readings_stored_total") >= 2 * 200 + 2
    assert metric(port, "village_ingest_broker_connected") == 1 and metric(port, "village_ingest_influxdb_up") == 1


def test_senml_packs_are_stored_in_canonical_units(broker, influxdb, running, village_id) -> None:
    ts_ms = NOW_MS - 60_000
    pack = encode_senml(
        "urn:dev:mac:0024befffe804ff1",
        ts_ms,
        {"pm25": 25.3, "pm10": 40.0, "air_temp": 31.5, "humidity": 70.0, "rssi": -71.0},
        units={"pm25": "ug/m3", "rssi": "dBm"},
    )
    with mqtt_publisher(broker.url) as client:
        publish_all(client, [(f"village/{village_id}/air-1/senml", pack)])
    db = running.settings.influx_db
    air = eventually(lambda: influx_rows(influxdb.url, db, "SELECT * FROM air"), what="air readings stored")
    device = influx_rows(influxdb.url, db, "SELECT * FROM device")
    assert [(r["time"], r["pm25"], r["pm10"], r["air_temp"], r["humidity"]) for r in air] == [
        (ts_ms, 25.3, 40.0, 31.5, 70.0)
    ]
    assert [(r["time"], r["rssi"]) for r in device] == [(ts_ms, -71.0)]


def test_retained_status_is_stored_once_across_reconnects_and_restarts(
    broker, influxdb, ingest_settings, village_id
) -> None:
    topic = f"village/{village_id}/pump-1/status"
    with mqtt_publisher(broker.url) as client:
        client.publish(topic, b"online", qos=1, retain=True).wait_for_publish(10)
    db = ingest_settings.influx_db

    def statuses() -> list[dict[str, object]]:
        return influx_rows(influxdb.url, db, "SELECT online FROM status")

    first = RunningIngestor(ingest_settings).start()
    eventually(lambda: len(statuses()) == 1, what="the retained status stored")
    first.close()
    RunningIngestor(ingest_settings).start().close()  # same session: the broker does not resend it
    fresh = RunningIngestor(ingest_settings.model_copy(update={"ingest_client_id": f"{village_id}-other"})).start()
    try:  # a new session gets the retained message again; it repeats what is stored, so it is skipped
        eventually(lambda: fresh.service.counters.messages == 1, what="the retained status delivered again")
        assert [r["online"] for r in statuses()] == [1.0]
        with mqtt_publisher(broker.url) as client:
            publish_all(client, [(topic, b'{"state": "offline"}')])
        eventually(lambda: [r["online"] for r in statuses()] == [1.0, 0.0], what="the change stored")
    finally:
        fresh.close()
        with mqtt_publisher(broker.url) as client:
            client.publish(topic, b"", qos=1, retain=True).wait_for_publish(10)  # clear the retained message


def test_policy_reject_follows_registry_edits_while_running(broker, influxdb, ingest_settings, village_id) -> None:
    registry = ingest_settings.data_dir / "registry.toml"
    write_registry(registry, village_id, "w1")
    settings = ingest_settings.model_copy(update={"ingest_unknown_devices": "reject", "ingest_registry_poll_s": 0.1})
    ingestor = RunningIngestor(settings).start()
    try:
        with mqtt_publisher(broker.url) as client:
            publish_all(client, [
                telemetry_message(village_id, "w1", {"ph": 7.0}, NOW_MS),
                telemetry_message(village_id, "w2", {"ph": 7.1}, NOW_MS),
                telemetry_message("elsewhere", "w1", {"ph": 7.2}, NOW_MS),
            ])  # fmt: skip
            eventually(lambda: ingestor.service.counters.messages == 3, what="3 messages processed")
            write_registry(registry, village_id, "w1", "w2")  # an officer confirms the new board
            eventually(lambda: ingestor.service.registry.devices == 2, what="registry reloaded")
            publish_all(client, [telemetry_message(village_id, "w2", {"ph": 7.3}, NOW_MS + 1)])
            eventually(lambda: ingestor.service.counters.messages == 4, what="4th message processed")
    finally:
        ingestor.close()
    rows = influx_rows(influxdb.url, settings.influx_db, "SELECT ph, device, village FROM water")
    assert sorted((r["village"], r["device"], r["ph"]) for r in rows) == [
        (village_id, "w1", 7.0),
        (village_id, "w2", 7.3),
    ]
    assert rejected_reasons(settings) == {
        f"village/{village_id}/w2/telemetry": ["unknown_device"],
        "village/elsewhere/w1/telemetry": ["village_mismatch"],
    }
    assert not influx_rows(influxdb.url, settings.influx_db, "SELECT * FROM quality")  # nothing marked


def test_policy_accept_stores_unregistered_devices_and_marks_them_once_per_batch(
    broker, influxdb, ingest_settings, village_id
) -> None:
    registry = ingest_settings.data_dir / "registry.toml"
    settings = ingest_settings.model_copy(update={"ingest_registry_poll_s": 0.1})  # no registry file: all unknown
    ingestor = RunningIngestor(settings).start()
    db = settings.influx_db
    marks = "SELECT last(unregistered) FROM quality WHERE quantity = 'all' GROUP BY village, device"
    try:
        with mqtt_publisher(broker.url) as client:
            publish_all(
                client, [telemetry_message(village_id, "new-1", {"ph": 7.0, "do": 6}, NOW_MS + i) for i in range(5)]
            )
            eventually(lambda: influx_count(influxdb.url, db, "ph") == 5, what="unregistered readings stored")
            assert [(r["last"]) for r in influx_rows(influxdb.url, db, marks)] == [1.0]
            before = influx_count(influxdb.url, db, "unregistered", "quality")
            assert 1 <= before <= 5 and ingestor.service.counters.unregistered == 10
            write_registry(registry, village_id, "new-1")
            eventually(lambda: ingestor.service.registry.devices == 1, what="registry read")
            publish_all(client, [telemetry_message(village_id, "new-1", {"ph": 7.1}, NOW_MS + 10)])
            eventually(lambda: influx_count(influxdb.url, db, "ph") == 6, what="registered reading stored")
        assert influx_count(influxdb.url, db, "unregistered", "quality") == before
    finally:
        ingestor.close()


def test_seq_gaps_are_counted_and_stored_per_device(broker, influxdb, running, village_id) -> None:
    messages = [telemetry_message(village_id, "s1", {"ph": 7.0}, NOW_MS + s, seq=s) for s in (1, 2, 5, 6)]
    with mqtt_publisher(broker.url) as client:
        publish_all(client, messages[:2])
        eventually(lambda: running.service.counters.messages == 2, what="first two")
        publish_all(client, messages[2:])
    db = running.settings.influx_db
    rows = eventually(lambda: influx_rows(influxdb.url, db, "SELECT * FROM link"), what="link point")
    assert [(r["device"], r["lost"], r["seq"], r["duplicated"]) for r in rows] == [("s1", 2.0, 6.0, 0.0)]
    assert metric(running.service.metrics_port, "village_ingest_seq_events_total", event="gap") == 2


def test_policy_reject_without_a_registry_refuses_to_start(broker, influxdb, database_name, tmp_path: Path) -> None:
    env = {
        "VILLAGE_MQTT_URL": broker.url,
        "VILLAGE_INFLUX_URL": influxdb.url,
        "VILLAGE_INFLUX_DB": database_name,
        "VILLAGE_DATA_DIR": str(tmp_path / "data"),
        "VILLAGE_INGEST_UNKNOWN_DEVICES": "reject",
    }
    process = village_process("ingest", "ingest", env=env, log_dir=tmp_path)
    assert process.popen.wait(30) == 2
    assert "VILLAGE_INGEST_UNKNOWN_DEVICES=reject needs a valid registry" in process.log_tail()


def test_the_stock_paho_receive_path_still_works(broker, influxdb, ingest_settings: IngestSettings, village_id) -> None:
    settings = ingest_settings.model_copy(update={"ingest_mqtt_fast_path": False})  # the operator's escape hatch
    ingestor = RunningIngestor(settings).start()
    try:
        with mqtt_publisher(broker.url) as client:
            publish_all(
                client, [telemetry_message(village_id, f"d{i % 7}", {"ph": 7.0}, NOW_MS + i) for i in range(300)]
            )
        eventually(lambda: influx_count(influxdb.url, settings.influx_db, "ph") == 300, what="all stored")
        eventually(lambda: ingestor.service.counters.acked == 300, what="all acknowledged")
    finally:
        ingestor.close()


def test_a_periodic_summary_is_logged_and_written_as_pipeline_points(
    broker, influxdb, ingest_settings: IngestSettings, village_id, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="ingest")
    settings = ingest_settings.model_copy(update={"ingest_summary_interval_s": 0.5})
    ingestor = RunningIngestor(settings).start()
    try:
        with mqtt_publisher(broker.url) as client:
            publish_all(client, [
                telemetry_message(village_id, "p1", {"ph": 7.0}, NOW_MS),
                telemetry_message(village_id, "p1", {"ph": 99.0}, NOW_MS + 1),
            ])  # fmt: skip
        db = settings.influx_db
        rows = eventually(
            lambda: [r for r in influx_rows(influxdb.url, db, "SELECT * FROM pipeline") if r["received"]],
            what="a pipeline point with the two messages",
        )
        rejects = eventually(lambda: influx_rows(influxdb.url, db, "SELECT * FROM rejects"), what="rejects point")
    finally:
        ingestor.close()
    assert rows[0]["instance"] == settings.ingest_client_id
    assert (rows[0]["received"], rows[0]["stored"], rows[0]["rejected"], rows[0]["connected"]) == (2.0, 1.0, 1.0, 1.0)
    assert [(r["reason"], r["count"]) for r in rejects] == [("hard_limit", 1.0)]
    assert any("2 messages, 2 readings: 1 stored" in r.getMessage() for r in caplog.records)


def test_a_message_that_trips_a_bug_is_kept_aside_and_the_rest_flows(
    broker, influxdb, ingest_settings: IngestSettings, village_id, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = ingest.decode.decode_senml

    def buggy(payload: bytes, *, received_ms: int) -> object:  # a bug that only this payload triggers
        if b"boom" in payload:
            raise RuntimeError("simulated bug")
        return real(payload, received_ms=received_ms)

    monkeypatch.setattr(ingest.decode, "decode_senml", buggy)
    ingestor = RunningIngestor(ingest_settings).start()
    stream = [telemetry_message(village_id, f"g{i % 5}", {"ph": 7.0}, NOW_MS + i) for i in range(50)]
    stream.insert(20, (f"village/{village_id}/b1/senml", b'[{"n": "ph", "v": 7, "boom": 1}]'))
    try:
        with mqtt_publisher(broker.url) as client:
            publish_all(client, stream)
        eventually(lambda: influx_count(influxdb.url, ingest_settings.influx_db, "ph") == 50, what="the rest stored")
        eventually(lambda: ingestor.service.counters.acked == 51, what="everything acknowledged")
    finally:
        ingestor.close()
    assert rejected_reasons(ingest_settings) == {f"village/{village_id}/b1/senml": ["internal_error"]}


def test_integers_and_exponents_are_stored_as_float_fields(broker, influxdb, running, village_id) -> None:
    payload = b'{"ts": 1764489600000, "readings": {"ec": 250, "turbidity": 1e-7, "ph": 7, "water_level": 3E2}}'
    with mqtt_publisher(broker.url) as client:
        publish_all(client, [(f"village/{village_id}/f1/telemetry", payload)])
    db = running.settings.influx_db
    rows = eventually(lambda: influx_rows(influxdb.url, db, "SELECT * FROM water"), what="stored")
    assert [(r["ec"], r["turbidity"], r["ph"], r["water_level"]) for r in rows] == [(250.0, 1e-7, 7.0, 300.0)]
    fields = {r["fieldKey"]: r["fieldType"] for r in influx_rows(influxdb.url, db, "SHOW FIELD KEYS FROM water")}
    assert fields == dict.fromkeys(("ec", "ph", "turbidity", "water_level"), "float")
