"""Publishing that never loses a message on the way out.

paho refuses new QoS 1 publishes once about 65,535 are unacknowledged (`MQTT_ERR_QUEUE_SIZE`, and the message
is silently not sent), so the publisher keeps a bounded window of unacknowledged messages and checks every code.
"""

from __future__ import annotations

import logging
import threading

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode, MQTTProtocolVersion
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from devices.config import MqttEndpoint

logger = logging.getLogger(__name__)


class PublishError(RuntimeError):
    """The client refused a publish; the message was not sent."""


class Publisher:
    """One MQTT connection with at most `window` unacknowledged QoS 1 messages."""

    def __init__(
        self,
        endpoint: MqttEndpoint,
        *,
        client_id: str,
        window: int = 1000,
        ca_file: str | None = None,
        will: tuple[str, bytes] | None = None,
    ) -> None:
        self._endpoint = endpoint
        self._window = window
        self._pending: set[int] = set()
        self._early: set[int] = set()
        self._in_flight = 0
        self._changed = threading.Condition()
        self._connected = threading.Event()
        self.acknowledged = 0
        self._client = paho.Client(
            CallbackAPIVersion.VERSION2, client_id=client_id, protocol=MQTTProtocolVersion.MQTTv5
        )
        if endpoint.username:
            self._client.username_pw_set(endpoint.username, endpoint.password)
        if endpoint.tls:
            self._client.tls_set(ca_certs=ca_file)
        if will is not None:
            self._client.will_set(will[0], will[1], qos=1, retain=True)
        self._client.max_queued_messages_set(0)
        self._client.max_inflight_messages_set(window)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_publish = self._on_publish

    @property
    def pending(self) -> int:
        """QoS 1 messages sent but not yet acknowledged by the broker."""
        return self._in_flight

    def connect(self, timeout_s: float = 10.0) -> None:
        """Connect and wait for the session.

        Raises:
            ConnectionError: not connected within `timeout_s`.
        """
        self._client.connect_async(self._endpoint.host, self._endpoint.port, keepalive=30)
        self._client.loop_start()
        if not self._connected.wait(timeout_s):
            self._client.loop_stop()
            raise ConnectionError(f"could not connect to {self._endpoint} within {timeout_s:.0f} s")

    def publish(self, topic: str, payload: bytes, *, retain: bool = False) -> None:
        """Publish at QoS 1, first waiting until fewer than `window` messages are unacknowledged.

        The lock is never held while calling paho: paho calls `on_publish` holding its own lock.

        Raises:
            PublishError: paho refused the message (it was not sent).
        """
        with self._changed:
            self._changed.wait_for(lambda: self._in_flight < self._window)
            self._in_flight += 1
        info = self._client.publish(topic, payload, qos=1, retain=retain)
        # NO_CONN: paho keeps QoS 1 messages and sends them after it reconnects.
        if info.rc not in (MQTTErrorCode.MQTT_ERR_SUCCESS, MQTTErrorCode.MQTT_ERR_NO_CONN):
            with self._changed:
                self._in_flight -= 1
                self._changed.notify_all()
            raise PublishError(f"publish to {topic} refused: {paho.error_string(info.rc)}")
        with self._changed:
            if info.mid in self._early:  # the broker acknowledged before we got here
                self._early.discard(info.mid)
                self._settle()
            else:
                self._pending.add(info.mid)

    def _settle(self) -> None:
        self._in_flight -= 1
        self.acknowledged += 1
        self._changed.notify_all()

    def drain(self, timeout_s: float = 30.0) -> bool:
        """Wait until every QoS 1 message sent so far is acknowledged by the broker."""
        with self._changed:
            return self._changed.wait_for(lambda: self._in_flight == 0, timeout=timeout_s)

    def close(self) -> None:
        """Disconnect cleanly (no last will is sent)."""
        self._client.disconnect()
        self._client.loop_stop()

    def _on_connect(
        self, _c: paho.Client, _u: object, _f: paho.ConnectFlags, rc: ReasonCode, _p: Properties | None
    ) -> None:
        if rc.is_failure:
            logger.error("broker %s refused the simulator: %s", self._endpoint, rc)
            return
        self._connected.set()

    def _on_disconnect(
        self, _c: paho.Client, _u: object, _f: paho.DisconnectFlags, rc: ReasonCode, _p: Properties | None
    ) -> None:
        self._connected.clear()
        if rc.is_failure:
            logger.warning("simulator disconnected from %s (%s); paho reconnects", self._endpoint, rc)

    def _on_publish(self, _c: paho.Client, _u: object, mid: int, _rc: ReasonCode, _p: Properties) -> None:
        with self._changed:
            if mid in self._pending:
                self._pending.discard(mid)
                self._settle()
            else:
                self._early.add(mid)
