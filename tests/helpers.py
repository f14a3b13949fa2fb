"""Small helpers shared by tests: polling for async effects, publishing, querying InfluxDB."""

from __future__ import annotations

import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import httpx
import orjson
import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from prometheus_client.parser import text_string_to_metric_families

from devices.influxql import ParamValue, Series, parse_results, query_form
from village.processes import ManagedProcess, child_environment, spawn

T = TypeVar("T")


def eventually(check: Callable[[], T], *, timeout_s: float = 15.0, interval_s: float = 0.05, what: str = "") -> T:
    """Poll `check` until it returns a truthy value (returned) or fail with the last value/error."""
    deadline = time.monotonic() + timeout_s
    last: object = None
    while time.monotonic() < deadline:
        try:
            result = check()
        except AssertionError as exc:
            last = exc
        else:
            if result:
                return result
            last = result
        time.sleep(interval_s)
    raise AssertionError(f"not true within {timeout_s} s{': ' + what if what else ''}; last: {last!r}")


def unique_id(prefix: str) -> str:
    """An identifier unique to this test, valid as village, device or database name."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@contextmanager
def mqtt_publisher(broker_url: str, *, client_id: str | None = None) -> Iterator[paho.Client]:
    """A connected paho client (MQTT 5) on the test broker; waits for every QoS 1 publish on exit."""
    host, port = broker_url.removeprefix("mqtt://").split(":")
    client = paho.Client(
        CallbackAPIVersion.VERSION2, client_id=client_id or unique_id("pub"), protocol=MQTTProtocolVersion.MQTTv5
    )
    connected = threading.Event()
    client.on_connect = lambda *_args: connected.set()
    client.connect(host, int(port))
    client.loop_start()
    assert connected.wait(10), "test publisher could not connect"
    try:
        yield client
    finally:
        client.loop_stop()
        client.disconnect()


def publish_all(client: paho.Client, messages: list[tuple[str, bytes]], *, qos: int = 1, retain: bool = False) -> None:
    """Publish and wait until the broker acknowledged each message."""
    infos = [client.publish(topic, payload, qos=qos, retain=retain) for topic, payload in messages]
    for info in infos:
        info.wait_for_publish(10)
        assert info.is_published()


def influx_query(
    influx_url: str, database: str, query: str, params: Mapping[str, ParamValue] | None = None
) -> list[list[Series]]:
    """Run InfluxQL against the test database and return parsed results (errors raise)."""
    response = httpx.post(f"{influx_url}/query", data=query_form(query, database=database, params=params), timeout=10)
    response.raise_for_status()
    return parse_results(response.content)


def influx_rows(
    influx_url: str, database: str, query: str, params: Mapping[str, ParamValue] | None = None
) -> list[dict[str, object]]:
    """Every record of every series of the first statement."""
    results = influx_query(influx_url, database, query, params)
    return [record for series in (results[0] if results else []) for record in series.records()]


def village_process(name: str, *args: str, env: Mapping[str, str], log_dir: Path) -> ManagedProcess:
    """Run a `village` subcommand as a real process with `env` (VILLAGE_* settings)."""
    return spawn(
        name, [sys.executable, "-m", "village", *args], log_path=log_dir / f"{name}.log", env=child_environment(**env)
    )


# --- ingest engine helpers -------------------------------------------------------------------------------------


def telemetry_message(
    village: str, device: str, readings: Mapping[str, object], ts_ms: int, *, seq: int | None = None
) -> tuple[str, bytes]:
    """(topic, payload) of one native telemetry message."""
    payload: dict[str, object] = {"ts": ts_ms, "readings": dict(readings)}
    if seq is not None:
        payload["seq"] = seq
    return f"village/{village}/{device}/telemetry", orjson.dumps(payload)


def metric(port: int, name: str, **labels: str) -> float:
    """The value of one Prometheus sample (summed over label sets not named), or 0.0 when absent."""
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    total = 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                total += sample.value
    return total


@contextmanager
def mqtt_collector(broker_url: str, topic: str) -> Iterator[list[tuple[str, bytes]]]:
    """Subscribe to `topic` (QoS 1) and collect (topic, payload) of what arrives, until the block ends."""
    received: list[tuple[str, bytes]] = []
    subscribed = threading.Event()
    with mqtt_publisher(broker_url) as client:
        client.on_message = lambda _c, _u, m: received.append((m.topic, bytes(m.payload)))
        client.on_subscribe = lambda *_args: subscribed.set()
        client.subscribe(topic, qos=1)
        assert subscribed.wait(10), f"could not subscribe to {topic}"
        yield received


def influx_count(influx_url: str, database: str, field: str, measurement: str = "water", where: str = "") -> int:
    """How many points have `field` (0 when none)."""
    rows = influx_rows(influx_url, database, f'SELECT count("{field}") FROM "{measurement}" {where}')
    return int(rows[0]["count"]) if rows else 0


class SteadyPublisher:
    """Publishes `count` telemetry messages at QoS 1 from a thread at about `rate_per_s`, `devices` boards
    round-robin, each board counting `seq` from 0; `published` says how far it got."""

    def __init__(
        self, broker_url: str, village: str, *, count: int, rate_per_s: float, devices: int = 10, t0_ms: int = 0
    ) -> None:
        self.count = count
        self.published = 0
        self.readings_per_message = 2
        self._broker_url = broker_url
        self._village = village
        self._interval_s = 1 / rate_per_s
        self._devices = devices
        self._t0_ms = t0_ms or 1_764_489_600_000
        self._thread = threading.Thread(target=self._run, name="steady-publisher", daemon=True)
        self.error: BaseException | None = None

    def message(self, i: int) -> tuple[str, bytes]:
        device, seq = i % self._devices, i // self._devices
        return telemetry_message(
            self._village, f"d{device}", {"ph": 7.0 + (i % 50) / 100, "do": 6.0}, self._t0_ms + i, seq=seq
        )

    def start(self) -> SteadyPublisher:
        self._thread.start()
        return self

    def _run(self) -> None:
        try:
            acknowledged: set[int] = set()
            with mqtt_publisher(self._broker_url) as client:
                client.on_publish = lambda _c, _u, mid, _rc, _p: acknowledged.add(mid)
                next_s = time.monotonic()
                mids = set()
                for i in range(self.count):
                    info = client.publish(*self.message(i), qos=1)
                    # NO_CONN (4): the broker is away; paho keeps QoS 1 messages and sends them on reconnect
                    assert info.rc in (0, 4), f"publish refused: {info.rc}"
                    mids.add(info.mid)
                    self.published = i + 1
                    next_s += self._interval_s
                    time.sleep(max(0.0, next_s - time.monotonic()))  # pacing the load, not waiting for an effect
                eventually(lambda: mids <= acknowledged, timeout_s=30, what="the broker acknowledged every message")
        except BaseException as exc:
            self.error = exc

    def join(self, timeout_s: float = 120) -> None:
        self._thread.join(timeout_s)
        assert not self._thread.is_alive(), "publisher did not finish"
        assert self.error is None, f"publisher failed: {self.error!r}"


class Collector:
    """Every message a real MQTT subscriber receives on a topic filter, in arrival order."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, bytes]] = []
        self._lock = threading.Lock()

    def add(self, topic: str, payload: bytes) -> None:
        with self._lock:
            self.messages.append((topic, payload))

    def snapshot(self) -> list[tuple[str, bytes]]:
        with self._lock:
            return list(self.messages)


@contextmanager
def mqtt_subscriber(broker_url: str, topic_filter: str) -> Iterator[Collector]:
    """A subscribed paho client (QoS 1) collecting what the broker delivers; subscribed before it yields."""
    host, port = broker_url.removeprefix("mqtt://").split(":")
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id=unique_id("sub"), protocol=MQTTProtocolVersion.MQTTv5)
    collector = Collector()
    subscribed = threading.Event()
    client.on_message = lambda _c, _u, message: collector.add(message.topic, bytes(message.payload))
    client.on_subscribe = lambda *_args: subscribed.set()
    client.on_connect = lambda c, *_args: c.subscribe(topic_filter, qos=1)
    client.connect(host, int(port))
    client.loop_start()
    assert subscribed.wait(10), "test subscriber could not subscribe"
    try:
        yield collector
    finally:
        client.loop_stop()
        client.disconnect()


def clear_retained(broker_url: str, topic_filter: str = "village/+/+/status") -> int:
    """Delete every retained message under `topic_filter` from the broker; returns how many there were.

    Tests share one broker, and a retained status left by one test (the simulator's boards, say) reaches every
    later new subscription. mosquitto sends the retained messages right after the SUBACK, before it handles the
    next packet, so an UNSUBSCRIBE round trip afterwards marks the end of them.
    """
    retained: set[str] = set()
    done = threading.Event()
    with mqtt_publisher(broker_url) as client:
        client.on_message = lambda _c, _u, m: m.retain and m.payload and retained.add(m.topic)
        client.on_subscribe = lambda c, *_args: c.unsubscribe(topic_filter)
        client.on_unsubscribe = lambda *_args: done.set()
        client.subscribe(topic_filter, qos=1)
        assert done.wait(10), "the broker did not answer"
        publish_all(client, [(topic, b"") for topic in sorted(retained)], retain=True)
    return len(retained)
