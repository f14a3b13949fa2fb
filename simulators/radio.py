"""Many MQTT connections driven from one thread: a board's own connection (with its real last will) each.

A paho client with `loop_start()` costs a thread; ten thousand boards would not fit in 500 MB on two cores.
Here every client's socket sits in one selector and the caller's thread calls paho's `loop_read`,
`loop_write` and `loop_misc` (measured: 10,000 connected boards ≈ 95 MB). With no network thread, paho
writes a publish straight to the socket and never calls back while we hold anything, so no lock is needed.

Nothing is lost on the way out: paho refuses new QoS 1 publishes once about 65,535 are unacknowledged
(`MQTT_ERR_QUEUE_SIZE`, and the message is silently not sent), so each connection keeps a bounded window of
unacknowledged messages and every return code is checked. A connection that breaks keeps what the broker never
acknowledged (`Link.unsent`) for the caller to send again on the next one, as ESP-IDF's esp-mqtt outbox does.
"""

from __future__ import annotations

import contextlib
import logging
import selectors
import socket
import ssl
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode, MQTTProtocolVersion
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from devices.config import MqttEndpoint

logger = logging.getLogger(__name__)

_MISC_EVERY_S = 0.5


class PublishError(RuntimeError):
    """The client refused a publish; the message was not sent."""


class LinkLostError(PublishError):
    """The connection broke under this publish; open a new link and publish again."""


@dataclass(frozen=True, slots=True)
class Unacknowledged:
    """A QoS 1 message sent on a link and not yet acknowledged by the broker."""

    label: str
    topic: str
    payload: bytes
    retain: bool


class Link:
    """One MQTT connection: a board's own (with its last will) or one shared by many simulated devices."""

    def __init__(
        self,
        radio: Radio,
        client_id: str,
        *,
        will: tuple[str, bytes] | None,
        window: int,
        label: str,
    ) -> None:
        self._radio = radio
        self.client_id = client_id
        self.label = label
        self.window = window
        self.pending: dict[int, Unacknowledged] = {}
        self.unsent: list[Unacknowledged] = []
        """Messages the broker never acknowledged before the connection ended, oldest first: send them again."""
        self.connected = False
        self.closed = False
        self.refused: str | None = None
        client = paho.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=radio.protocol)
        endpoint = radio.endpoint
        if endpoint.username:
            client.username_pw_set(endpoint.username, endpoint.password)
        if endpoint.tls:
            client.tls_set(ca_certs=radio.ca_file, cert_reqs=ssl.CERT_REQUIRED)
        if will is not None:
            client.will_set(will[0], will[1], qos=1, retain=True)
        client.max_queued_messages_set(0)
        client.max_inflight_messages_set(window)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_publish = self._on_publish
        self.client = client
        self._sock: socket.socket | None = None

    @property
    def has_room(self) -> bool:
        """Fewer than `window` messages are waiting for the broker's acknowledgement."""
        return len(self.pending) < self.window

    def open(self) -> None:
        """Open the TCP (or TLS) connection and send CONNECT; CONNACK arrives through the radio's pump."""
        self.client.connect(self._radio.endpoint.host, self._radio.endpoint.port, keepalive=self._radio.keepalive_s)
        sock = self.client.socket()
        if not isinstance(sock, socket.socket):
            raise ConnectionError(f"{self.client_id}: no socket after connect")
        self._sock = sock
        self._radio.register(self, sock)

    def publish(self, topic: str, payload: bytes, *, retain: bool = False, label: str | None = None) -> None:
        """Publish at QoS 1, counted under `label` (default: the link's). Call only when `has_room`.

        Raises:
            PublishError: paho refused the message (it was not sent).
        """
        info = self.client.publish(topic, payload, qos=1, retain=retain)
        # NO_CONN before CONNACK: paho keeps QoS 1 messages and sends them once connected.
        label = self.label if label is None else label
        if info.rc == MQTTErrorCode.MQTT_ERR_CONN_LOST or self.closed:
            self._finish()
            raise LinkLostError(f"{self.client_id}: connection lost while publishing to {topic}")
        if info.rc not in (MQTTErrorCode.MQTT_ERR_SUCCESS, MQTTErrorCode.MQTT_ERR_NO_CONN):
            self._radio.errors[label] += 1
            raise PublishError(f"{self.client_id}: publish to {topic} refused: {paho.error_string(info.rc)}")
        self.pending[info.mid] = Unacknowledged(label, topic, payload, retain)
        self._radio.sent[label] += 1
        self._radio.wants_write(self)

    def drop(self) -> None:
        """Vanish without DISCONNECT, as a board does when Wi-Fi or power goes: the broker sends the will."""
        if self._sock is not None and not self.closed:
            self.closed = True
            self._radio.unregister(self, self._sock)
            with contextlib.suppress(OSError):
                self._sock.shutdown(socket.SHUT_RDWR)
            self._sock.close()
        self._finish()

    def disconnect(self) -> None:
        """Send DISCONNECT (no will) and close."""
        if self._sock is not None and not self.closed:
            self.closed = True  # paho calls on_disconnect from inside disconnect(): not a loss
            self.client.disconnect()
            self._radio.unregister(self, self._sock)
            self._sock.close()
        self._finish()

    def _finish(self) -> None:
        self.closed = True
        self.connected = False
        self._radio.lost_in_flight += len(self.pending)
        self.unsent.extend(self.pending.values())  # in publish order (dicts keep insertion order)
        self.pending.clear()

    # called by the radio

    def on_readable(self) -> None:
        self.client.loop_read()
        sock = self._sock
        while isinstance(sock, ssl.SSLSocket) and not self.closed and sock.pending():
            self.client.loop_read()

    def on_writable(self) -> None:
        self.client.loop_write()

    def tick(self) -> None:
        if not self.closed:
            self.client.loop_misc()

    # paho callbacks (on this same thread, from loop_read)

    def _on_connect(
        self, _c: paho.Client, _u: object, _f: paho.ConnectFlags, rc: ReasonCode, _p: Properties | None
    ) -> None:
        if rc.is_failure:
            self.refused = str(rc)
            logger.error("broker %s refused %s: %s", self._radio.endpoint, self.client_id, rc)
            return
        self.connected = True

    def _on_disconnect(
        self, _c: paho.Client, _u: object, _f: paho.DisconnectFlags, rc: ReasonCode, _p: Properties | None
    ) -> None:
        if not self.closed:
            logger.warning("%s lost its connection to %s (%s)", self.client_id, self._radio.endpoint, rc)
            if self._sock is not None:
                self._radio.unregister(self, self._sock)
            self._finish()

    def _on_publish(self, _c: paho.Client, _u: object, mid: int, _rc: ReasonCode, _p: Properties) -> None:
        sent = self.pending.pop(mid, None)
        if sent is not None:
            self._radio.acknowledged[sent.label] += 1


class Radio:
    """The selector loop that owns every link's socket; call `pump` often from the simulation thread."""

    def __init__(
        self,
        endpoint: MqttEndpoint,
        *,
        ca_file: str | None = None,
        keepalive_s: int = 60,
        protocol: MQTTProtocolVersion = MQTTProtocolVersion.MQTTv311,
        clock_s: Callable[[], float] = time.monotonic,
    ) -> None:
        self.endpoint = endpoint
        self.ca_file = ca_file
        self.keepalive_s = keepalive_s
        self.protocol = protocol
        self._clock_s = clock_s
        self._selector = selectors.DefaultSelector()
        self._links: set[Link] = set()
        self._writing: set[Link] = set()
        self._last_misc_s = clock_s()
        self.sent: Counter[str] = Counter()
        self.acknowledged: Counter[str] = Counter()
        self.errors: Counter[str] = Counter()
        self.lost_in_flight = 0

    def link(self, client_id: str, *, will: tuple[str, bytes] | None = None, window: int = 20, label: str = "") -> Link:
        """Open a new connection."""
        link = Link(self, client_id, will=will, window=window, label=label)
        link.open()
        return link

    @property
    def in_flight(self) -> int:
        return sum(len(link.pending) for link in self._links)

    @property
    def links(self) -> int:
        return len(self._links)

    def register(self, link: Link, sock: socket.socket) -> None:
        self._links.add(link)
        self._selector.register(sock, selectors.EVENT_READ, link)
        if link.client.want_write():
            self.wants_write(link)

    def unregister(self, link: Link, sock: socket.socket) -> None:
        self._links.discard(link)
        self._writing.discard(link)
        with contextlib.suppress(KeyError, ValueError):
            self._selector.unregister(sock)

    def wants_write(self, link: Link) -> None:
        """Watch for writability while paho still has bytes queued for this link."""
        if link.client.want_write() and link not in self._writing and link in self._links:
            sock = link.client.socket()
            if isinstance(sock, socket.socket):
                self._selector.modify(sock, selectors.EVENT_READ | selectors.EVENT_WRITE, link)
                self._writing.add(link)

    def pump(self, timeout_s: float = 0.0) -> int:
        """Handle network events for up to `timeout_s`; returns how many sockets were ready."""
        ready = self._selector.select(timeout_s) if self._links else []
        for key, events in ready:
            link: Link = key.data
            if events & selectors.EVENT_READ:
                link.on_readable()
            if events & selectors.EVENT_WRITE and not link.closed:
                link.on_writable()
                if not link.client.want_write() and link in self._writing:
                    self._writing.discard(link)
                    self._selector.modify(key.fileobj, selectors.EVENT_READ, link)
        now = self._clock_s()
        if now - self._last_misc_s >= _MISC_EVERY_S:
            self._last_misc_s = now
            for link in list(self._links):
                link.tick()
        return len(ready)

    def wait(self, condition: Callable[[], bool], *, timeout_s: float) -> bool:
        """Pump until `condition()` holds or `timeout_s` passes."""
        deadline = self._clock_s() + timeout_s
        while not condition():
            left = deadline - self._clock_s()
            if left <= 0:
                return False
            self.pump(min(left, 0.05))
        return True

    def publish(
        self,
        link: Link,
        topic: str,
        payload: bytes,
        *,
        retain: bool = False,
        label: str | None = None,
        timeout_s: float = 60,
    ) -> None:
        """Publish on `link`, first pumping until its window has room.

        Raises:
            PublishError: refused by the client, or no room within `timeout_s`.
        """
        if not link.has_room and not self.wait(lambda: link.has_room or link.closed, timeout_s=timeout_s):
            raise PublishError(f"{link.client_id}: {len(link.pending)} messages unacknowledged for {timeout_s:.0f} s")
        link.publish(topic, payload, retain=retain, label=label)

    def drain(self, timeout_s: float = 30.0) -> bool:
        """Wait until every message sent so far is acknowledged."""
        return self.wait(lambda: self.in_flight == 0, timeout_s=timeout_s)

    def close(self) -> None:
        """Disconnect every link cleanly."""
        for link in list(self._links):
            link.disconnect()
        self._selector.close()
