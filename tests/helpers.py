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
import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

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


def publish_all(client: paho.Client, messages: list[tuple[str, bytes]], *, qos: int = 1) -> None:
    """Publish and wait until the broker acknowledged each message."""
    infos = [client.publish(topic, payload, qos=qos) for topic, payload in messages]
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
