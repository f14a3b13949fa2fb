"""The only module that knows the order: collect → prepare → store durably → record rejections → ack → notify.

A message is acknowledged only once every reading in it is in InfluxDB, in the fsynced spool, or in the fsynced
rejected store, so a crash at any point means redelivery, and redelivery rewrites identical points:
at-least-once, idempotent.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Protocol

import numpy as np
import orjson

from devices.reasons import RejectReason
from devices.topics import Channel, Topic
from ingest.encode import readings_in
from ingest.messages import InboundMessage
from ingest.metrics import IngestMetrics
from ingest.prepare import BatchPreparer, PreparedBatch
from ingest.rejects import group_by_message, rejection_json
from ingest.samples import Rejection
from ingest.store import DurableStore, Stored

logger = logging.getLogger(__name__)

MAX_NOTICE_REJECTIONS = 20


class MessageSource(Protocol):
    """Where messages come from and where acknowledgements and notices go (MqttSource in production)."""

    def get(self, timeout_s: float) -> InboundMessage | None: ...
    def ack(self, messages: Sequence[InboundMessage]) -> int: ...
    def publish(self, topic: str, payload: bytes) -> bool: ...


class RejectSink(Protocol):
    """Where rejections go; `record` returns only when they are durable, and raises OSError when they are not."""

    def record(self, messages: Sequence[InboundMessage], rejections: Sequence[Rejection]) -> None: ...


def epoch_ms() -> int:
    """Wall-clock time in integer milliseconds."""
    return time.time_ns() // 1_000_000


class IngestLoop:
    """Runs the stages in order on one thread; stops taking messages when `stop` is set."""

    def __init__(
        self,
        source: MessageSource,
        preparer: BatchPreparer,
        store: DurableStore,
        rejects: RejectSink,
        metrics: IngestMetrics,
        *,
        batch_max_messages: int,
        batch_max_wait_s: float,
        publish_notices: bool = True,
        retry_max_s: float = 10.0,
        housekeeping: Callable[[], None] = lambda: None,
        clock_s: Callable[[], float] = time.monotonic,
        clock_ms: Callable[[], int] = epoch_ms,
    ) -> None:
        self._source = source
        self._preparer = preparer
        self._store = store
        self._rejects = rejects
        self._metrics = metrics
        self._batch_max_messages = batch_max_messages
        self._batch_max_wait_s = batch_max_wait_s
        self._publish_notices = publish_notices
        self._retry_max_s = retry_max_s
        self._housekeeping = housekeeping
        self._clock_s = clock_s
        self._clock_ms = clock_ms

    def run(self, stop: threading.Event) -> None:
        """Process batches until `stop` is set; the batch in hand is finished (or left unacknowledged)."""
        while not stop.is_set():
            batch = self._collect(stop)
            try:
                self._housekeeping()
                if batch:
                    self.process(batch, stop)
            except Exception:
                logger.exception("a batch of %d messages failed; isolating the message that causes it", len(batch))
                self._isolate(batch, stop)

    def _isolate(self, batch: Sequence[InboundMessage], stop: threading.Event) -> None:
        """Process one message at a time; a message that still fails is kept as `internal_error` and acknowledged.

        A message that trips a bug would otherwise fail its batch forever after every redelivery and stall the
        province; in the rejected store it waits for the fix and `village rejects replay`.
        """
        for message in batch:
            try:
                self.process([message], stop)
            except Exception as exc:
                logger.exception("message on %r fails the pipeline; keeping it as internal_error", message.topic[:160])
                rejection = Rejection(0, RejectReason.INTERNAL_ERROR, f"{type(exc).__name__}: {exc}"[:300])
                if self._record([message], [rejection], stop):
                    self._source.ack([message])
                    self._metrics.count_labelled(self._metrics.rejected, {RejectReason.INTERNAL_ERROR.value: 1})
                    self._metrics.count(messages=1, rejected=1, acked=1)

    def _collect(self, stop: threading.Event) -> list[InboundMessage]:
        first = self._source.get(0.2)
        if first is None:
            return []
        batch = [first]
        deadline = self._clock_s() + self._batch_max_wait_s
        while len(batch) < self._batch_max_messages and not stop.is_set():
            message = self._source.get(max(deadline - self._clock_s(), 0.0))
            if message is None:
                break
            batch.append(message)
        return batch

    def process(self, batch: Sequence[InboundMessage], stop: threading.Event) -> bool:
        """Store or reject every reading of `batch`, then acknowledge it. False if stopped before durable."""
        prepared = self._preparer.prepare(batch)
        stored = self._store.store(prepared.lines, prepared.origins, batch, readings=prepared.stored, stop=stop)
        if stored is None:
            logger.warning("stopping with %d messages not yet durable; the broker will redeliver them", len(batch))
            return False
        refused = [
            Rejection(prepared.origins[i], RejectReason.WRITE_REFUSED, f"InfluxDB refused {prepared.lines[i][:200]!r}")
            for i in stored.refused
        ]
        rejections = prepared.rejections + refused
        if rejections and not self._record(batch, rejections, stop):
            return False
        acked = self._source.ack(batch)
        self._account(batch, prepared, stored, rejections, acked)
        if rejections and self._publish_notices:
            self._notify(batch, rejections)
        return True

    def _record(self, batch: Sequence[InboundMessage], rejections: list[Rejection], stop: threading.Event) -> bool:
        """Make rejections durable, retrying while the disk refuses; False if stopped first (do not ack)."""
        delay_s = 0.5
        while True:
            try:
                self._rejects.record(batch, rejections)
            except OSError as exc:
                logger.error("cannot record %d rejections (%s); holding the batch unacknowledged", len(rejections), exc)
            else:
                return True
            if stop.wait(delay_s):
                return False
            delay_s = min(delay_s * 2, self._retry_max_s)

    def _account(
        self,
        batch: Sequence[InboundMessage],
        prepared: PreparedBatch,
        stored: Stored,
        rejections: list[Rejection],
        acked: int,
    ) -> None:
        m = self._metrics
        refused_readings = sum(readings_in(prepared.lines[i]) for i in stored.refused)
        kept = prepared.stored - refused_readings
        by_reason: dict[str, int] = {}
        for rejection in rejections:
            by_reason[rejection.reason.value] = by_reason.get(rejection.reason.value, 0) + 1
        link = prepared.link
        m.count_labelled(m.messages, prepared.channels)
        m.readings.inc(prepared.readings)
        m.count_labelled(m.rejected, by_reason)
        m.count_labelled(m.flagged, prepared.flags)
        m.collapsed.inc(prepared.collapsed)
        m.acked.inc(acked)
        m.batch.observe(len(batch))
        m.statuses.inc(prepared.statuses)
        m.status_repeats.inc(prepared.statuses_repeated)
        m.status_clears.inc(prepared.statuses_cleared)
        m.unregistered.inc(prepared.unregistered)
        m.count_labelled(
            m.link,
            {  # counters only go up: gaps and late arrivals separately (net lost = gap - late)
                "gap": link.gaps,
                "duplicated": link.duplicated,
                "late": link.late,
                "reboot": link.reboots,
                "redelivered": link.redelivered,
            },
        )
        if stored.spooled_bytes:
            m.spooled.inc(kept)
        else:
            m.stored.inc(kept)
            if stored.write_s is not None:
                m.write.observe(stored.write_s)
                m.count(write_ms_sum=round(stored.write_s * 1000), writes=1)
            m.observe_lag(self._clock_ms() - prepared.device_ts_ms.astype(np.int64))
        m.count(
            batches=1,
            messages=len(batch),
            readings=prepared.readings,
            stored=0 if stored.spooled_bytes else kept,
            spooled=kept if stored.spooled_bytes else 0,
            rejected=len(rejections),
            collapsed=prepared.collapsed,
            flagged=sum(prepared.flags.values()),
            acked=acked,
            lost=link.lost,
            duplicated=link.duplicated,
            reboots=link.reboots,
            redelivered=link.redelivered,
            statuses=prepared.statuses,
            unregistered=prepared.unregistered,
        )

    def _notify(self, batch: Sequence[InboundMessage], rejections: list[Rejection]) -> None:
        """Tell device developers why, on `village/{v}/{d}/rejected`; best effort, the store is the record."""
        published = dropped = 0
        for index, found in group_by_message(rejections).items():
            message = batch[index]
            try:
                topic = Topic.parse(message.topic).with_channel(Channel.REJECTED)
            except ValueError:
                continue  # no device to tell
            notice = {
                "topic": message.topic,
                "received_ms": message.received_ms,
                "rejections": [rejection_json(r) for r in found[:MAX_NOTICE_REJECTIONS]],
                "more": max(len(found) - MAX_NOTICE_REJECTIONS, 0),
            }
            if self._source.publish(str(topic), orjson.dumps(notice)):
                published += 1
            else:
                dropped += 1
        self._metrics.count_labelled(self._metrics.notices, {"published": published, "dropped": dropped})
        self._metrics.count(notices_dropped=dropped)
