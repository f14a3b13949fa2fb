"""Wires the ingestor from settings: MQTT source, InfluxDB writer, rejection sink, loop; runs until stopped."""

from __future__ import annotations

import logging
import threading
import time

from devices.topics import Channel, subscription
from ingest.errors import InfluxRefused, InfluxUnavailable
from ingest.influx import InfluxWriter
from ingest.mqtt import MqttSource
from ingest.pipeline import IngestCounters, IngestLoop, LoggingRejects
from ingest.settings import IngestSettings

logger = logging.getLogger(__name__)


def epoch_ms() -> int:
    """Wall-clock receive time in integer milliseconds."""
    return time.time_ns() // 1_000_000


class IngestService:
    """One ingestor instance, built from settings."""

    def __init__(self, settings: IngestSettings) -> None:
        self.settings = settings
        self._writer = InfluxWriter(settings, timeout_s=settings.ingest_write_timeout_s)
        self._source = MqttSource(
            settings.mqtt,
            client_id=settings.ingest_client_id,
            subscriptions=[subscription(Channel.TELEMETRY, share_group=settings.ingest_share_group)],
            clock_ms=epoch_ms,
            receive_maximum=settings.ingest_receive_maximum,
            session_expiry_s=settings.ingest_session_expiry_s,
            ca_file=str(settings.mqtt_ca_file) if settings.mqtt_ca_file else None,
        )
        self._loop = IngestLoop(
            self._source,
            self._writer,
            LoggingRejects(),
            batch_max_messages=settings.ingest_batch_max_messages,
            batch_max_wait_s=settings.ingest_batch_max_wait_ms / 1000,
        )

    @property
    def counters(self) -> IngestCounters:
        return self._loop.counters

    def run(self, stop: threading.Event, *, ready: threading.Event | None = None) -> None:
        """Run until `stop` is set; `ready` is set once the schema exists and the subscriptions are active.

        Raises:
            InfluxRefused: the schema could not be created (permissions); nothing was consumed.
        """
        try:
            if not self._ensure_schema(stop):
                return
            logger.info("InfluxDB %s database %s ready", self.settings.influx_url, self.settings.influx_db)
            self._source.start()
            if ready is not None:
                threading.Thread(target=self._signal_ready, args=(ready, stop), daemon=True).start()
            self._loop.run(stop)
        except InfluxRefused:
            logger.exception("InfluxDB refused to create the schema")
            raise
        finally:
            self._source.stop()
            self._writer.close()
            c = self.counters
            logger.info(
                "ingestor stopped: %d messages, %d readings stored, %d rejected, %d duplicates collapsed",
                c.messages,
                c.stored,
                c.rejected,
                c.collapsed,
            )

    def _ensure_schema(self, stop: threading.Event) -> bool:
        """Create the schema, waiting for InfluxDB to come up; False if stopped first."""
        delay_s = 0.5
        while not stop.is_set():
            try:
                self._writer.ensure_schema()
            except InfluxUnavailable as exc:
                logger.warning("waiting for InfluxDB: %s", exc)
            else:
                return True
            stop.wait(delay_s)
            delay_s = min(delay_s * 2, 10.0)
        return False

    def _signal_ready(self, ready: threading.Event, stop: threading.Event) -> None:
        while not stop.is_set():
            if self._source.wait_connected(0.1):
                ready.set()
                return
