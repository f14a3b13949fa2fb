"""The only module that knows paho: a persistent MQTT 5 session with manual acknowledgement.

paho runs its network loop on its own thread. The callbacks here only convert and enqueue, and nothing may
escape them: an exception inside a paho 2.x callback kills the network thread (no more messages, no reconnect).
Subscriptions ask for retained messages only when the subscription is new (MQTT 5 retain handling 1), so a
reconnect to the persistent session does not replay every device's retained status.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import ssl
import struct
import threading
from collections.abc import Callable, Iterable, Sequence

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode
from paho.mqtt.subscribeoptions import SubscribeOptions

from devices.config import MqttEndpoint
from ingest.messages import InboundMessage

logger = logging.getLogger(__name__)

Clock = Callable[[], int]

FLUSH_TOPIC = "$flush/village-ingest"
"""Never subscribed: unsubscribing from it is a round trip that leaves the session as it was."""
NOTICE_QUEUE_MAX = 10_000
"""Rejection notices paho may hold unacknowledged; beyond that they are dropped (counted), never the data."""


READ_BURST = 1000
"""Packets read per turn of the network loop (stock paho reads one per select())."""
READ_CHUNK = 64 * 1024
_PUBACK = 0x40
_SESSION_TAKEN_OVER = 0x8E
_WAKE = b"0"


class _FastClient(paho.Client):
    """paho's client with a receive path fit for a subscriber that takes thousands of messages a second.

    Measured on the 2-core benchmark machine, stock paho 2.x spends most of a message in syscalls and thread
    switches: one select() per packet (it reads a single packet per loop turn when it has nothing to send), three
    recv() calls per packet (type byte, length bytes, body), and with manual acks one wake-up write per ack.
    Each syscall releases the GIL to the pipeline thread and waits to get it back. Here the socket is read in
    64 KiB chunks, every buffered packet is handled in one loop turn, and acks for a batch are queued with a
    single wake-up. The overridden methods are private paho 2.x internals (checked with paho-mqtt 2.1 and 2.2,
    pinned < 3); `supported()` checks they exist, and MqttSource falls back to stock paho if they do not.
    """

    _read_buffer = b""
    _read_offset = 0

    @staticmethod
    def supported() -> bool:
        return all(hasattr(paho.Client, n) for n in ("_sock_recv", "_packet_read", "_loop_rc_handle", "_sock_close"))

    def _sock_recv(self, bufsize: int) -> bytes:
        buffer, offset = self._read_buffer, self._read_offset
        if offset >= len(buffer):
            buffer = super()._sock_recv(READ_CHUNK)  # BlockingIOError when the socket has nothing
            if not buffer:
                return buffer  # the broker closed the connection
            self._read_buffer, offset = buffer, 0
        self._read_offset = min(offset + bufsize, len(buffer))
        return buffer[offset : offset + bufsize]

    def _sock_close(self) -> None:
        self._read_buffer, self._read_offset = b"", 0  # nothing of the old connection leaks into the next
        super()._sock_close()

    def loop_read(self, max_packets: int = 1) -> MQTTErrorCode:
        """Handle every packet already received (at least READ_BURST, and always what is buffered)."""
        handled = 0
        while True:
            if self._sock is None:
                return MQTTErrorCode.MQTT_ERR_NO_CONN
            rc = self._packet_read()
            if rc > 0:
                return self._loop_rc_handle(rc)
            if rc == MQTTErrorCode.MQTT_ERR_AGAIN:
                return MQTTErrorCode.MQTT_ERR_SUCCESS
            handled += 1
            if handled >= max(max_packets, READ_BURST) and self._read_offset >= len(self._read_buffer):
                return MQTTErrorCode.MQTT_ERR_SUCCESS

    def ack_many(self, mids: list[int]) -> None:
        """Queue the PUBACKs of a batch as one write (paho writes each queued packet with its own send()),
        then wake the network thread once."""
        if not mids:
            return
        acks = struct.pack(f"!{len(mids)}I", *((_PUBACK << 24) | (2 << 16) | mid for mid in mids))
        self._out_packet.append(
            {
                "command": _PUBACK,
                "mid": mids[-1],
                "qos": 1,
                "pos": 0,
                "to_process": len(acks),
                "packet": acks,
                "info": None,
            }
        )
        if self._sockpairW is not None:
            with contextlib.suppress(BlockingIOError):
                self._sockpairW.send(_WAKE)


class MqttSource:
    """Receives QoS 1 messages on a persistent session and acknowledges them only when told to."""

    def __init__(
        self,
        endpoint: MqttEndpoint,
        *,
        client_id: str,
        subscriptions: Sequence[str],
        clock_ms: Clock,
        receive_maximum: int,
        session_expiry_s: int,
        ca_file: str | None = None,
        keepalive_s: int = 30,
        fast_path: bool = True,
    ) -> None:
        self._endpoint = endpoint
        self._subscriptions = tuple(subscriptions)
        self._clock_ms = clock_ms
        self._receive_maximum = receive_maximum
        self._session_expiry_s = session_expiry_s
        self._keepalive_s = keepalive_s
        self._client_id = client_id
        self._inbox: queue.SimpleQueue[InboundMessage] = queue.SimpleQueue()
        self._session = 0
        self._stopping = False
        self._connected = threading.Event()
        self._unreachable_logged = False
        self._flushed = threading.Event()
        client_class = _FastClient if fast_path and _FastClient.supported() else paho.Client
        self._client = client_class(
            CallbackAPIVersion.VERSION2,
            client_id=client_id,
            protocol=MQTTProtocolVersion.MQTTv5,
            manual_ack=True,
        )
        if endpoint.username:
            self._client.username_pw_set(endpoint.username, endpoint.password)
        if endpoint.tls:
            self._client.tls_set(ca_certs=ca_file, cert_reqs=ssl.CERT_REQUIRED)
        self._client.reconnect_delay_set(min_delay=1, max_delay=30)
        self._client.max_inflight_messages_set(100)
        self._client.max_queued_messages_set(NOTICE_QUEUE_MAX)
        self._client.on_connect = self._on_connect
        self._client.on_connect_fail = self._on_connect_fail
        self._client.on_disconnect = self._on_disconnect
        self._client.on_message = self._on_message
        self._client.on_subscribe = self._on_subscribe
        self._client.on_unsubscribe = self._on_unsubscribe

    @property
    def connected(self) -> bool:
        """Whether the broker session is up and subscribed right now."""
        return self._connected.is_set()

    def start(self) -> None:
        """Connect in the background; paho reconnects with backoff (1 s doubling to 30 s) from then on."""
        properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        properties.SessionExpiryInterval = self._session_expiry_s
        properties.ReceiveMaximum = self._receive_maximum
        self._client.connect_async(
            self._endpoint.host,
            self._endpoint.port,
            keepalive=self._keepalive_s,
            clean_start=False,
            properties=properties,
        )
        self._client.loop_start()

    def wait_connected(self, timeout_s: float) -> bool:
        """Block until the session is up (for start-up and tests)."""
        return self._connected.wait(timeout_s)

    def get(self, timeout_s: float) -> InboundMessage | None:
        """The next received message, or None after `timeout_s`."""
        try:
            return self._inbox.get(timeout=timeout_s) if timeout_s > 0 else self._inbox.get_nowait()
        except queue.Empty:
            return None

    def ack(self, messages: Iterable[InboundMessage]) -> int:
        """Acknowledge messages whose readings are durable; returns how many acks were sent.

        Messages from an earlier connection are skipped: their packet ids mean nothing now, and the broker
        redelivers them on the new session, where the duplicate write is harmless.
        """
        session = self._session
        mids = [m.mid for m in messages if m.qos == 1 and m.session == session]
        if isinstance(self._client, _FastClient):
            self._client.ack_many(mids)
            return len(mids)
        sent = 0
        for mid in mids:
            rc = self._client.ack(mid, 1)
            if rc == MQTTErrorCode.MQTT_ERR_SUCCESS:
                sent += 1
            else:
                logger.warning("could not acknowledge mid %d (%s); the broker will redeliver it", mid, rc)
        return sent

    def publish(self, topic: str, payload: bytes) -> bool:
        """Publish a QoS 1 notice; False when paho refused it (MQTT_ERR_QUEUE_SIZE: it was not sent).

        While disconnected paho keeps QoS 1 messages (MQTT_ERR_NO_CONN) and sends them after reconnecting.
        """
        try:
            info = self._client.publish(topic, payload, qos=1)
        except ValueError as exc:  # an invalid topic; ours are built from validated identifiers
            logger.warning("publish to %r refused: %s", topic[:160], exc)
            return False
        if info.rc in (MQTTErrorCode.MQTT_ERR_SUCCESS, MQTTErrorCode.MQTT_ERR_NO_CONN):
            return True
        logger.debug("publish to %s refused by the client: %s", topic, paho.error_string(info.rc))
        return False

    def stop(self, *, flush_timeout_s: float = 3.0) -> None:
        """Disconnect cleanly; the persistent session (and its queue) stays on the broker.

        The broker keeps sending up to Receive Maximum messages, so our socket has unread data when it closes,
        and Linux then resets the connection: the broker may drop our last acknowledgements still in its receive
        buffer. So first a barrier: UNSUBSCRIBE from a topic we never subscribed to; the broker answers it after
        processing every packet sent before it, acknowledgements included. Messages that arrive meanwhile are
        not acknowledged and come back on the next connection.
        """
        self._stopping = True
        if self._connected.is_set():
            self._flushed.clear()  # the only UNSUBSCRIBE we ever send, so any UNSUBACK is its answer
            result, _mid = self._client.unsubscribe(FLUSH_TOPIC)
            if result == MQTTErrorCode.MQTT_ERR_SUCCESS and not self._flushed.wait(flush_timeout_s):
                logger.warning("the broker did not confirm our last acknowledgements; they may be redelivered")
        self._client.disconnect()
        self._client.loop_stop()
        self._connected.clear()

    # paho callbacks: run on the network thread; convert, enqueue, never raise.

    def _on_connect(
        self,
        client: paho.Client,
        _userdata: object,
        flags: paho.ConnectFlags,
        reason_code: ReasonCode,
        _properties: Properties | None,
    ) -> None:
        try:
            if reason_code.is_failure:
                logger.error("broker %s refused the connection: %s", self._endpoint, reason_code)
                return
            self._session += 1
            self._unreachable_logged = False
            options = SubscribeOptions(qos=1, retainHandling=SubscribeOptions.RETAIN_SEND_IF_NEW_SUB)
            result, _mid = client.subscribe([(topic, options) for topic in self._subscriptions])
            if result != MQTTErrorCode.MQTT_ERR_SUCCESS:
                logger.error("subscribe failed: %s", paho.error_string(result))
            logger.info(
                "connected to %s as %s (session present: %s)",
                self._endpoint,
                self._client_id,
                bool(flags.session_present),
            )
        except Exception:
            logger.exception("error in the MQTT connect callback")

    def _on_connect_fail(self, _client: paho.Client, _userdata: object) -> None:
        try:
            if not self._unreachable_logged:
                logger.error("cannot reach the broker %s; retrying with backoff", self._endpoint)
                self._unreachable_logged = True
        except Exception:
            logger.exception("error in the MQTT connect-failure callback")

    def _on_subscribe(
        self,
        _client: paho.Client,
        _userdata: object,
        _mid: int,
        reason_codes: list[ReasonCode],
        _properties: Properties | None,
    ) -> None:
        try:
            refused = [str(code) for code in reason_codes if code.is_failure]
            if refused:
                logger.error("the broker refused subscriptions %s: %s", self._subscriptions, ", ".join(refused))
                return
            if not self._connected.is_set():
                logger.info("subscribed to %s", ", ".join(self._subscriptions))
            self._connected.set()
        except Exception:
            logger.exception("error in the MQTT subscribe callback")

    def _on_unsubscribe(
        self,
        _client: paho.Client,
        _userdata: object,
        _mid: int,
        _reason_codes: list[ReasonCode],
        _properties: Properties | None,
    ) -> None:
        try:
            self._flushed.set()
        except Exception:
            logger.exception("error in the MQTT unsubscribe callback")

    def _on_disconnect(
        self,
        _client: paho.Client,
        _userdata: object,
        _flags: paho.DisconnectFlags,
        reason_code: ReasonCode,
        _properties: Properties | None,
    ) -> None:
        try:
            if reason_code.value == _SESSION_TAKEN_OVER and not self._stopping:
                logger.error(
                    "another client connected with our client id %s and took the session over: give every "
                    "ingestor its own VILLAGE_INGEST_CLIENT_ID (--client-id)",
                    self._client_id,
                )
            elif self._connected.is_set() and not self._stopping:
                logger.warning("disconnected from %s (%s); reconnecting with backoff", self._endpoint, reason_code)
            self._connected.clear()
        except Exception:
            logger.exception("error in the MQTT disconnect callback")

    def _on_message(self, _client: paho.Client, _userdata: object, message: paho.MQTTMessage) -> None:
        try:
            self._inbox.put(
                InboundMessage(
                    topic=_topic_text(message),
                    payload=bytes(message.payload),
                    qos=message.qos,
                    retain=bool(message.retain),
                    mid=message.mid,
                    received_ms=self._clock_ms(),
                    session=self._session,
                    dup=bool(message.dup),
                )
            )
        except Exception:
            logger.exception("error in the MQTT message callback; the message will be redelivered")


def _topic_text(message: paho.MQTTMessage) -> str:
    try:
        return message.topic
    except UnicodeDecodeError:  # brokers should refuse these; if one does not, the topic is rejected later
        return bytes(message._topic).decode("utf-8", errors="replace")
