"""MQTT 5 test clients that log in, optionally over TLS, and report exactly what the broker answered."""

from __future__ import annotations

import queue
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from tests.helpers import unique_id

NOT_AUTHORIZED = 135
BAD_LOGIN = 134
ACCEPTED = frozenset({0, 16})
"""PUBACK reason codes of a publish the broker took: success, and success with no matching subscriber."""


@dataclass
class Session:
    """A connected client, the messages it received and the broker's answer to each QoS 1 publish."""

    client: paho.Client
    received: queue.SimpleQueue[paho.MQTTMessage] = field(default_factory=queue.SimpleQueue)
    acks: dict[int, int] = field(default_factory=dict)
    acked: threading.Condition = field(default_factory=threading.Condition)

    def publish(self, topic: str, payload: bytes, *, retain: bool = False, timeout_s: float = 10) -> int:
        """Publish at QoS 1 and return the PUBACK reason code (ACCEPTED, or 135 not authorized)."""
        info = self.client.publish(topic, payload, qos=1, retain=retain)
        with self.acked:
            assert self.acked.wait_for(lambda: info.mid in self.acks, timeout_s), f"no PUBACK for {topic}"
            return self.acks.pop(info.mid)

    def subscribe(self, topic: str) -> None:
        done = threading.Event()
        self.client.on_subscribe = lambda *_args: done.set()
        self.client.subscribe(topic, qos=1)
        assert done.wait(10), f"no SUBACK for {topic}"

    def messages(self, *, timeout_s: float) -> list[paho.MQTTMessage]:
        """Everything received, waiting `timeout_s` for the first and a little for the rest."""
        found: list[paho.MQTTMessage] = []
        wait_s = timeout_s
        while True:
            try:
                found.append(self.received.get(timeout=wait_s))
            except queue.Empty:
                return found
            wait_s = 0.3


@dataclass(frozen=True)
class Refusal:
    """Why a connection did not come up: a CONNACK reason code, or a transport error (e.g. TLS)."""

    reason: int | None
    error: str | None


def _client(username: str | None, password: str | None, ca_file: Path | None, client_id: str | None) -> paho.Client:
    client = paho.Client(
        CallbackAPIVersion.VERSION2, client_id=client_id or unique_id("test"), protocol=MQTTProtocolVersion.MQTTv5
    )
    if username is not None:
        client.username_pw_set(username, password)
    if ca_file is not None:
        client.tls_set(ca_certs=str(ca_file), cert_reqs=ssl.CERT_REQUIRED)
    return client


def try_connect(
    port: int,
    *,
    username: str | None = None,
    password: str | None = None,
    ca_file: Path | None = None,
    client_id: str | None = None,
    session_expiry_s: int = 0,
    timeout_s: float = 5.0,
) -> Session | Refusal:
    """Connect to localhost; a Session when the broker accepted the login, else why not.

    A `session_expiry_s` above 0 asks for a persistent session (clean start off), as the ingestor does.
    """
    client = _client(username, password, ca_file, client_id)
    answer: queue.SimpleQueue[ReasonCode | None] = queue.SimpleQueue()
    session = Session(client)
    client.on_connect = lambda _c, _u, _f, rc, _p: answer.put(rc)
    client.on_disconnect = lambda *_args: answer.put(None)
    client.on_message = lambda _c, _u, message: session.received.put(message)

    def on_publish(_c: paho.Client, _u: object, mid: int, rc: ReasonCode, _p: object) -> None:
        with session.acked:
            session.acks[mid] = rc.value
            session.acked.notify_all()

    client.on_publish = on_publish
    properties = None
    if session_expiry_s:
        properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        properties.SessionExpiryInterval = session_expiry_s
    try:
        client.connect("localhost", port, keepalive=30, clean_start=not session_expiry_s, properties=properties)
    except (OSError, ssl.SSLError) as exc:
        return Refusal(None, f"{type(exc).__name__}: {exc}")
    client.loop_start()
    try:
        code = answer.get(timeout=timeout_s)
    except queue.Empty:
        code = None
    if code is not None and not code.is_failure:
        return session
    client.loop_stop()
    client.disconnect()
    return Refusal(code.value if code is not None else None, None if code is not None else "no CONNACK")


@contextmanager
def logged_in(
    port: int,
    username: str,
    password: str,
    *,
    ca_file: Path | None = None,
    client_id: str | None = None,
    session_expiry_s: int = 0,
) -> Iterator[Session]:
    """A session the broker must accept."""
    outcome = try_connect(
        port,
        username=username,
        password=password,
        ca_file=ca_file,
        client_id=client_id,
        session_expiry_s=session_expiry_s,
    )
    assert isinstance(outcome, Session), f"{username} could not log in: {outcome}"
    try:
        yield outcome
    finally:
        outcome.client.loop_stop()
        outcome.client.disconnect()
