"""Nothing is lost, for real: InfluxDB stopped, the ingestor killed, the spool full, the broker's queue, N workers.

These tests stop and restart the session's influxd, SIGKILL real `village ingest` processes and count, in
InfluxDB, every reading that was published.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import httpx
import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from ingest.settings import IngestSettings
from tests.conftest import RunningIngestor
from tests.helpers import (
    SteadyPublisher,
    eventually,
    influx_count,
    influx_rows,
    metric,
    mqtt_publisher,
    publish_all,
    telemetry_message,
    unique_id,
    village_process,
)
from village.processes import ManagedProcess, accepts_connections, free_port, spawn, wait_until
from village.services import MOSQUITTO_LIMITS, Broker, mosquitto_config, require_binary

NOW_MS = 1_764_489_600_000
OUTAGE_S = 20


def stored(influx_url: str, database: str) -> int:
    return influx_count(influx_url, database, "ph") + influx_count(influx_url, database, "do")


@pytest.fixture
def env(broker, influxdb, database_name, tmp_path: Path, village_id) -> dict[str, str]:
    return {
        "VILLAGE_MQTT_URL": broker.url,
        "VILLAGE_INFLUX_URL": influxdb.url,
        "VILLAGE_INFLUX_DB": database_name,
        "VILLAGE_DATA_DIR": str(tmp_path / "data"),
        "VILLAGE_INGEST_CLIENT_ID": f"ingest-{village_id}",
        "VILLAGE_INGEST_BATCH_MAX_WAIT_MS": "50",
        "VILLAGE_INGEST_RETRY_MAX_S": "1",
    }


def start_ingest(env: dict[str, str], tmp_path: Path, name: str = "ingest") -> tuple[ManagedProcess, int]:
    port = free_port()
    process = village_process(name, "ingest", "--metrics-port", str(port), env=env, log_dir=tmp_path)
    wait_until(
        lambda: _metric_or_zero(port, "village_ingest_broker_connected") == 1,
        timeout_s=30,
        what="ingestor subscribed",
        process=process,
    )
    return process, port


def _metric_or_zero(port: int, name: str, **labels: str) -> float:
    try:
        return metric(port, name, **labels)
    except httpx.HTTPError:  # not listening yet, or gone
        return 0.0


def test_influxdb_stopped_for_20_s_while_messages_flow_loses_nothing(
    broker, influxdb, ingest_settings: IngestSettings, village_id
) -> None:
    settings = ingest_settings.model_copy(update={"ingest_metrics_port": 0, "ingest_retry_max_s": 1.0})
    ingestor = RunningIngestor(settings).start()
    rate = 50
    publisher = SteadyPublisher(broker.url, village_id, count=rate * (OUTAGE_S + 6), rate_per_s=rate).start()
    port = ingestor.service.metrics_port
    try:
        eventually(lambda: publisher.published >= rate * 2, what="traffic before the outage")
        influxdb.process.stop()
        stopped_at = publisher.published
        eventually(lambda: ingestor.service.spool.bytes > 0, what="batches going to the spool")
        assert metric(port, "village_ingest_influxdb_up") == 0
        eventually(
            lambda: publisher.published >= stopped_at + rate * OUTAGE_S, timeout_s=OUTAGE_S + 10, what="20 s outage"
        )
        influxdb.restart()
        publisher.join()
        expected = publisher.count * publisher.readings_per_message
        eventually(lambda: stored(influxdb.url, settings.influx_db) == expected, timeout_s=30, what="all stored")
        eventually(lambda: ingestor.service.spool.bytes == 0, what="spool replayed and deleted")
        counters = ingestor.service.counters
        assert counters.messages == publisher.count
        assert counters.spooled > rate * OUTAGE_S  # the outage really went through the spool
        assert counters.replayed == counters.spooled
        assert counters.lost == 0 and counters.duplicated == 0  # nothing counted lost, twice or otherwise
        assert metric(port, "village_ingest_seq_events_total", event="gap") == 0
        assert not influx_rows(influxdb.url, settings.influx_db, "SELECT * FROM link")
        assert metric(port, "village_ingest_influxdb_up") == 1
    finally:
        ingestor.close()
        if not influxdb.process.alive():
            influxdb.restart()


def test_an_ingestor_killed_mid_stream_loses_nothing(broker, influxdb, env, tmp_path: Path, village_id) -> None:
    process, port = start_ingest(env, tmp_path)
    publisher = SteadyPublisher(broker.url, village_id, count=3000, rate_per_s=600).start()
    eventually(lambda: _metric_or_zero(port, "village_ingest_readings_stored_total") >= 400, what="some stored")
    process.kill()  # SIGKILL: unacknowledged messages stay with the broker's persistent session
    killed_at = publisher.published
    restarted, _ = start_ingest(env, tmp_path, "ingest-2")
    try:
        publisher.join()
        assert killed_at < publisher.count, "the kill happened after the stream ended"
        expected = publisher.count * publisher.readings_per_message
        eventually(lambda: stored(influxdb.url, env["VILLAGE_INFLUX_DB"]) == expected, timeout_s=30, what="all")
    finally:
        assert restarted.stop() == 0


def test_a_spool_left_by_a_killed_ingestor_is_replayed_after_restart(
    broker, influxdb, env, tmp_path: Path, village_id
) -> None:
    process, port = start_ingest(env, tmp_path)
    try:
        influxdb.process.kill()
        messages = [telemetry_message(village_id, "k1", {"ph": 7.0, "do": 6.0}, NOW_MS + i) for i in range(300)]
        with mqtt_publisher(broker.url) as client:
            publish_all(client, messages)
        eventually(lambda: metric(port, "village_ingest_messages_acked_total") == 300, what="spooled and acked")
        assert metric(port, "village_ingest_spool_bytes") > 0
        process.kill()  # the spool now holds the only copy of those readings
        spool = Path(env["VILLAGE_DATA_DIR"]) / "spool" / env["VILLAGE_INGEST_CLIENT_ID"]
        assert list(spool.glob("*.seg"))
    finally:
        influxdb.restart()
    restarted, _ = start_ingest(env, tmp_path, "ingest-2")
    try:
        eventually(lambda: stored(influxdb.url, env["VILLAGE_INFLUX_DB"]) == 600, timeout_s=30, what="replayed")
        eventually(lambda: not list(spool.glob("*.seg")), what="spool segments deleted")
    finally:
        assert restarted.stop() == 0


def test_a_full_spool_stops_acknowledging_and_the_broker_keeps_the_rest(
    broker, influxdb, ingest_settings: IngestSettings, village_id
) -> None:
    settings = ingest_settings.model_copy(
        update={"ingest_spool_max_bytes": 2**20, "ingest_retry_max_s": 0.5, "ingest_metrics_port": 0}
    )
    ingestor = RunningIngestor(settings).start()
    count = 6000
    try:
        influxdb.process.stop()
        with mqtt_publisher(broker.url) as client:
            publish_all(
                client,
                [telemetry_message(village_id, f"f{i % 20}", {"ph": 7.0, "do": 6.0}, NOW_MS + i) for i in range(count)],
            )
        port = ingestor.service.metrics_port
        eventually(lambda: metric(port, "village_ingest_held_messages") > 0, what="holding a batch unacknowledged")
        assert ingestor.service.spool.bytes <= 2**20
        assert ingestor.service.counters.acked < count
        influxdb.restart()
        eventually(lambda: stored(influxdb.url, settings.influx_db) == 2 * count, timeout_s=60, what="all stored")
        eventually(lambda: ingestor.service.counters.acked == count, what="everything acknowledged")
        assert metric(port, "village_ingest_held_messages") == 0
    finally:
        ingestor.close()
        if not influxdb.process.alive():
            influxdb.restart()


def test_sigterm_flushes_acks_and_exits_0_within_seconds(broker, influxdb, env, tmp_path: Path, village_id) -> None:
    process, port = start_ingest(env, tmp_path)
    publisher = SteadyPublisher(broker.url, village_id, count=2000, rate_per_s=1000).start()
    eventually(lambda: _metric_or_zero(port, "village_ingest_readings_stored_total") >= 200, what="some stored")
    acked_before = metric(port, "village_ingest_messages_acked_total")
    started = time.monotonic()
    os.kill(process.pid, signal.SIGTERM)
    assert process.popen.wait(10) == 0
    assert time.monotonic() - started < 5
    log = process.log_path.read_text()
    stopped = int(log.split("ingestor stopped: ")[1].split(" messages")[0])
    assert stopped >= acked_before
    restarted, port2 = start_ingest(env, tmp_path, "ingest-2")
    try:
        publisher.join()
        expected = publisher.count * publisher.readings_per_message
        eventually(lambda: stored(influxdb.url, env["VILLAGE_INFLUX_DB"]) == expected, timeout_s=30, what="all")
        eventually(  # the first instance's acknowledgements all reached the broker: nothing comes twice
            lambda: metric(port2, "village_ingest_messages_total") == publisher.count - stopped,
            what=f"only what the first instance did not acknowledge (it did {stopped})",
        )
    finally:
        assert restarted.stop() == 0


def test_two_ingestors_sharing_a_subscription_store_everything_exactly_once(
    broker, influxdb, ingest_settings: IngestSettings, village_id
) -> None:
    group = unique_id("g")
    workers = [
        RunningIngestor(
            ingest_settings.model_copy(update={"ingest_client_id": f"{village_id}-{n}", "ingest_share_group": group})
        ).start()
        for n in ("a", "b")
    ]
    count = 2000
    try:
        with mqtt_publisher(broker.url) as client:
            publish_all(
                client,
                [telemetry_message(village_id, f"s{i % 50}", {"ph": 7.0, "do": 6.0}, NOW_MS + i) for i in range(count)],
            )
        eventually(lambda: sum(w.service.counters.messages for w in workers) >= count, what="all messages taken")
        eventually(lambda: stored(influxdb.url, ingest_settings.influx_db) == 2 * count, what="all stored")
        taken = [w.service.counters.messages for w in workers]
        assert sum(taken) == count and min(taken) > 0  # each message once, and both did work
    finally:
        for worker in workers:
            worker.close()


def _subscriber(port: int, client_id: str) -> paho.Client:
    client = paho.Client(
        CallbackAPIVersion.VERSION2, client_id=client_id, protocol=MQTTProtocolVersion.MQTTv311, clean_session=False
    )
    client.connect("127.0.0.1", port)
    return client


def _burst_reaches_a_slow_subscriber(port: int, count: int) -> int:
    """A QoS 1 subscriber on a persistent session is away while `count` messages are published; how many reach it."""
    topic = f"burst/{unique_id('t')}"
    subscribed = threading.Event()
    away = _subscriber(port, f"slow-{topic}")
    away.on_subscribe = lambda *_args: subscribed.set()
    away.loop_start()
    away.subscribe(topic, qos=1)
    assert subscribed.wait(10)
    away.disconnect()
    away.loop_stop()
    with mqtt_publisher(f"mqtt://127.0.0.1:{port}") as client:
        publish_all(client, [(topic, b"%d" % i) for i in range(count)])
    received: set[bytes] = set()
    progress = {"count": -1, "at": time.monotonic()}

    def settled() -> bool:
        """Everything arrived, or nothing new for a second (the default configuration drops)."""
        if len(received) != progress["count"]:
            progress.update(count=len(received), at=time.monotonic())
        return len(received) >= count or time.monotonic() - progress["at"] > 1.0

    back = _subscriber(port, f"slow-{topic}")
    back.on_message = lambda _c, _u, m: received.add(bytes(m.payload))
    back.loop_start()
    try:
        eventually(settled, timeout_s=30, what="the burst delivered or settled")
    finally:
        back.disconnect()
        back.loop_stop()
    return len(received)


def test_the_shipped_broker_config_keeps_a_burst_larger_than_mosquittos_default_queue(
    broker: Broker, tmp_path: Path
) -> None:
    count = 5000  # mosquitto's default max_queued_messages is 1000
    assert _burst_reaches_a_slow_subscriber(broker.port, count) == count
    port = free_port()  # the same broker without the shipped limits, to show the test can fail
    config = tmp_path / "default.conf"
    config.write_text(mosquitto_config(tmp_path, port).replace(MOSQUITTO_LIMITS, ""))
    default = spawn("mosquitto-default", [require_binary("mosquitto"), "-c", str(config)], log_path=tmp_path / "m.log")
    try:
        wait_until(lambda: accepts_connections(port), timeout_s=10, what="default mosquitto", process=default)
        assert _burst_reaches_a_slow_subscriber(port, count) < count / 2
    finally:
        default.stop()


def test_a_broker_restart_mid_stream_is_survived_by_reconnecting(
    broker: Broker, influxdb, ingest_settings: IngestSettings, village_id, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="ingest")
    ingestor = RunningIngestor(ingest_settings).start()
    publisher = SteadyPublisher(broker.url, village_id, count=2000, rate_per_s=500).start()
    try:
        eventually(lambda: ingestor.service.counters.messages >= 300, what="the stream under way")
        broker.restart()  # the broker saves its queue on SIGTERM; both clients reconnect
        publisher.join()
        expected = publisher.count * publisher.readings_per_message
        eventually(lambda: stored(influxdb.url, ingest_settings.influx_db) == expected, timeout_s=30, what="all")
    finally:
        ingestor.close()
    reconnects = [r for r in caplog.records if "reconnecting with backoff" in r.getMessage()]
    assert len(reconnects) == 1  # one WARNING for the state change, not one per attempt
    assert any("session present: True" in r.getMessage() for r in caplog.records)  # the broker kept our queue
