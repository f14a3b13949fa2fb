"""Wires one ingestor from settings — MQTT source, preparer, InfluxDB writer, spool, rejected store, metrics —
and runs it until stopped, with the spool replayer and the metrics endpoint beside it."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import asdict
from wsgiref.simple_server import WSGIServer

from prometheus_client import start_http_server

from devices.lineprotocol import encode_point
from devices.schema import PIPELINE, REJECTS, TAG_INSTANCE, TAG_REASON
from devices.topics import Channel, subscription
from ingest.errors import InfluxRefused, InfluxUnavailable
from ingest.influx import InfluxWriter
from ingest.metrics import IngestCounters, IngestMetrics, summary_line
from ingest.mqtt import MqttSource
from ingest.pipeline import IngestLoop, epoch_ms
from ingest.prepare import BatchPreparer
from ingest.registry import DeviceRegistry
from ingest.rejects import RejectedStore
from ingest.replay import SpoolReplayer
from ingest.settings import IngestSettings
from ingest.spool import Spool, SpoolRecord
from ingest.store import DurableStore, InfluxHealth

logger = logging.getLogger(__name__)

CHANNELS = (Channel.TELEMETRY, Channel.SENML, Channel.STATUS)


class IngestService:
    """One ingestor instance, built from settings."""

    def __init__(self, settings: IngestSettings) -> None:
        """Build every part; nothing connects yet.

        Raises:
            ConfigurationError: the registry is required (policy reject) but missing or invalid.
        """
        self.settings = settings
        self.registry = DeviceRegistry(
            settings.registry_path, policy=settings.ingest_unknown_devices, poll_s=settings.ingest_registry_poll_s
        )
        self.metrics = IngestMetrics()
        self.health = InfluxHealth()
        self._writer = InfluxWriter(settings, timeout_s=settings.ingest_write_timeout_s)
        self._replay_writer = InfluxWriter(settings, timeout_s=settings.ingest_write_timeout_s)
        self.spool = Spool(
            settings.spool_dir,
            max_bytes=settings.ingest_spool_max_bytes,
            segment_bytes=settings.ingest_spool_segment_bytes,
        )
        self.rejects = RejectedStore(
            settings.rejects_dir,
            instance=settings.ingest_client_id,
            file_bytes=settings.ingest_rejects_file_bytes,
            max_bytes=settings.ingest_rejects_max_bytes,
        )
        self._source = MqttSource(
            settings.mqtt,
            client_id=settings.ingest_client_id,
            subscriptions=[subscription(c, share_group=settings.ingest_share_group) for c in CHANNELS],
            clock_ms=epoch_ms,
            receive_maximum=settings.ingest_receive_maximum,
            session_expiry_s=settings.ingest_session_expiry_s,
            ca_file=str(settings.mqtt_ca_file) if settings.mqtt_ca_file else None,
            fast_path=settings.ingest_mqtt_fast_path,
        )
        self._preparer = BatchPreparer(registry=self.registry, seq_accounting=settings.seq_accounting)
        store = DurableStore(
            self._writer,
            self.spool,
            self.health,
            retry_max_s=settings.ingest_retry_max_s,
            on_hold=self.metrics.holding.set,
        )
        self._replayer = SpoolReplayer(
            self.spool,
            self._replay_writer,
            self.health,
            self.rejects,
            retry_max_s=settings.ingest_retry_max_s,
            on_replayed=self._replayed,
        )
        self._loop = IngestLoop(
            self._source,
            self._preparer,
            store,
            self.rejects,
            self.metrics,
            batch_max_messages=settings.ingest_batch_max_messages,
            batch_max_wait_s=settings.ingest_batch_max_wait_ms / 1000,
            publish_notices=settings.ingest_publish_rejections,
            retry_max_s=settings.ingest_retry_max_s,
            housekeeping=self._housekeeping,
        )
        self._watch_gauges()
        self._summary_at_s = time.monotonic()
        self._summary_before = IngestCounters()
        self._rejected_before: dict[str, float] = {}
        self.metrics_port: int | None = None

    @property
    def counters(self) -> IngestCounters:
        """Running totals (a snapshot)."""
        return self.metrics.snapshot()

    def run(self, stop: threading.Event, *, ready: threading.Event | None = None) -> None:
        """Run until `stop` is set; `ready` is set once the schema exists and the subscriptions are active.

        Raises:
            InfluxRefused: the schema could not be created (permissions); nothing was consumed.
        """
        replay_stop = threading.Event()
        replayer = threading.Thread(target=self._replayer.run, args=(replay_stop,), name="spool-replay", daemon=True)
        server: WSGIServer | None = None
        try:
            if not self._ensure_schema(stop):
                return
            logger.info("InfluxDB %s database %s ready", self.settings.influx_url, self.settings.influx_db)
            self._seed_statuses()
            server = self._serve_metrics()
            self._source.start()
            replayer.start()
            if ready is not None:
                threading.Thread(target=self._signal_ready, args=(ready, stop), daemon=True).start()
            self._loop.run(stop)
        except InfluxRefused:
            logger.exception("InfluxDB refused to create the schema")
            raise
        finally:
            self._shutdown(replayer, replay_stop, server)

    def _shutdown(self, replayer: threading.Thread, replay_stop: threading.Event, server: WSGIServer | None) -> None:
        self._source.stop()  # after the last acks: paho sends them before its DISCONNECT
        replay_stop.set()
        if replayer.is_alive():
            replayer.join(15)
        self._writer.close()
        self._replay_writer.close()
        self.spool.close()
        self.rejects.close()
        if server is not None:
            server.shutdown()
            server.server_close()
        c = self.counters
        channels = self.metrics.totals_by_label(self.metrics.messages, "channel")
        logger.info(
            "ingestor stopped: %d messages (%s), %d readings stored, %d spooled, %d rejected, %d duplicates "
            "collapsed; spool holds %d bytes",
            c.messages,
            ", ".join(f"{channel} {count:.0f}" for channel, count in sorted(channels.items())) or "none",
            c.stored,
            c.spooled,
            c.rejected,
            c.collapsed,
            self.spool.bytes,
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

    def _seed_statuses(self) -> None:
        try:
            states = self._writer.last_statuses()
        except (InfluxUnavailable, InfluxRefused) as exc:
            logger.warning("could not read the last device statuses (%s); retained ones may be stored again", exc)
            return
        for (village, device), online in states.items():
            self._preparer.seed_status(village, device, online=online)

    def _serve_metrics(self) -> WSGIServer | None:
        port = self.settings.ingest_metrics_port
        if port is None:
            return None
        server, _thread = start_http_server(port, addr="0.0.0.0", registry=self.metrics.registry)  # noqa: S104
        self.metrics_port = int(server.server_port)
        logger.info("Prometheus metrics on port %d", self.metrics_port)
        return server

    def _signal_ready(self, ready: threading.Event, stop: threading.Event) -> None:
        while not stop.is_set():
            if self._source.wait_connected(0.1):
                ready.set()
                return

    def _watch_gauges(self) -> None:
        m = self.metrics
        m.watch("spool_bytes", "Bytes waiting in the disk spool", lambda: self.spool.bytes)
        m.watch("spool_segments", "Segment files in the disk spool", lambda: self.spool.segments)
        m.watch("broker_connected", "1 while the MQTT session is up", lambda: 1 if self._source.connected else 0)
        m.watch(
            "influxdb_up",
            "0 while InfluxDB refuses writes (batches go to the spool)",
            lambda: 0 if self.health.down else 1,
        )
        m.watch("registry_devices", "Devices in the registry in force", lambda: self.registry.devices)
        m.watch("rejected_files_pruned", "Rejected-store files deleted over quota", lambda: self.rejects.pruned_files)

    def _replayed(self, record: SpoolRecord, refused: list[int]) -> None:
        readings = record.readings if not refused else max(record.readings - len(refused), 0)
        self.metrics.stored.inc(readings)
        self.metrics.replayed.inc(readings)
        self.metrics.count(stored=readings, replayed=readings, rejected=len(refused))
        if not self.spool:
            logger.info("spool replayed completely")

    def _housekeeping(self) -> None:
        self.registry.refresh()
        now_s = time.monotonic()
        if now_s - self._summary_at_s < self.settings.ingest_summary_interval_s:
            return
        counters = self.counters
        logger.info(
            summary_line(
                self._summary_before,
                counters,
                seconds=now_s - self._summary_at_s,
                spool_bytes=self.spool.bytes,
                connected=self._source.connected,
            )
        )
        self._write_self_metrics(self._summary_before, counters)
        self._summary_at_s, self._summary_before = now_s, counters

    def _write_self_metrics(self, before: IngestCounters, now: IngestCounters) -> None:
        """The period's counters as `pipeline` and `rejects` points; best effort (Prometheus has them too)."""
        if self.health.down:
            return
        d = {k: v - asdict(before)[k] for k, v in asdict(now).items()}
        instance = {TAG_INSTANCE: self.settings.ingest_client_id}
        now_ms = epoch_ms()
        fields = {
            "received": d["messages"],
            "readings": d["readings"],
            "stored": d["stored"],
            "rejected": d["rejected"],
            "spooled": d["spooled"],
            "spool_bytes": self.spool.bytes,
            "lag_ms": d["lag_ms_sum"] / d["lag_samples"] if d["lag_samples"] else 0,
            "write_ms": d["write_ms_sum"] / d["writes"] if d["writes"] else 0,
            "connected": 1 if self._source.connected else 0,
        }
        lines = [encode_point(PIPELINE, instance, {k: float(v) for k, v in fields.items()}, now_ms)]
        totals = self.metrics.totals_by_label(self.metrics.rejected, "reason")
        for reason, total in totals.items():
            change = total - self._rejected_before.get(reason, 0.0)
            if change:
                lines.append(encode_point(REJECTS, {**instance, TAG_REASON: reason}, {"count": change}, now_ms))
        self._rejected_before = totals
        try:
            self._writer.write(lines)
        except (InfluxUnavailable, InfluxRefused) as exc:
            logger.debug("self-metrics not written: %s", exc)
