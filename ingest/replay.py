"""Replays the spool into InfluxDB in order, on its own thread, so live data never waits for the backlog."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from typing import Protocol

from devices.reasons import RejectReason
from ingest.errors import InfluxRefused, InfluxUnavailable
from ingest.messages import InboundMessage
from ingest.samples import Rejection
from ingest.spool import Spool, SpoolRecord
from ingest.store import InfluxHealth, PointWriter, write_isolating

logger = logging.getLogger(__name__)


class RejectRecorder(Protocol):
    """Where refused lines are recorded durably (RejectedStore)."""

    def record(self, messages: Sequence[InboundMessage], rejections: Sequence[Rejection]) -> None: ...


class SpoolReplayer:
    """Writes the oldest spooled record until InfluxDB takes it, then the next; deletes what is stored."""

    def __init__(
        self,
        spool: Spool,
        writer: PointWriter,
        health: InfluxHealth,
        rejects: RejectRecorder,
        *,
        retry_max_s: float = 5.0,
        on_replayed: Callable[[SpoolRecord, list[int]], None] = lambda _record, _refused: None,
    ) -> None:
        self._spool = spool
        self._writer = writer
        self._health = health
        self._rejects = rejects
        self._retry_max_s = retry_max_s
        self._on_replayed = on_replayed

    def run(self, stop: threading.Event) -> None:
        """Until `stop`: replay whatever is spooled; a record is deleted only once it is stored or rejected."""
        delay_s = 0.25
        record: SpoolRecord | None = None
        while not stop.is_set():
            try:
                if record is None:
                    record = self._spool.next_record()
                    if record is None:
                        self._spool.wait(0.5)
                        continue
                self._replay(record)
                record = None
                delay_s = 0.25
            except (InfluxUnavailable, InfluxRefused) as exc:
                self._health.mark_down(exc)
                stop.wait(delay_s)
                delay_s = min(delay_s * 2, self._retry_max_s)
            except Exception:
                logger.exception("spool replay failed; retrying (the record stays in the spool)")
                stop.wait(self._retry_max_s)

    def _replay(self, record: SpoolRecord) -> None:
        refused = write_isolating(self._writer, record.lines)
        self._health.mark_up()
        if refused:
            messages = [InboundMessage(m.topic, m.payload, 1, m.retain, 0, m.received_ms, 0) for m in record.messages]
            rejections = [
                Rejection(record.origins[i], RejectReason.WRITE_REFUSED, f"InfluxDB refused {record.lines[i][:200]!r}")
                for i in refused
            ]
            self._rejects.record(messages, rejections)
        self._spool.commit(record)
        self._on_replayed(record, refused)
