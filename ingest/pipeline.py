"""The only module that knows the order: collect → decode → validate (vectorized) → encode → write → ack.

A message is acknowledged only once every reading in it is stored in InfluxDB or recorded as rejected, so a
crash at any point means redelivery, and redelivery rewrites identical points: at-least-once, idempotent.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import numpy.typing as npt

from devices.quantities import CATALOGUE, HARD_MAX, HARD_MIN
from devices.reasons import QualityFlag, RejectReason
from ingest import validate
from ingest.columns import ReadingColumns, columns_of
from ingest.decode import ReceiveTimes, decode_message
from ingest.encode import SeriesKeys, encode_flags, encode_readings
from ingest.errors import InfluxRefused, InfluxUnavailable
from ingest.messages import InboundMessage
from ingest.samples import Rejection, Sample

logger = logging.getLogger(__name__)

_REASONS = tuple(RejectReason)
_OK = -1


class MessageSource(Protocol):
    """Where messages come from and where acknowledgements go (MqttSource in production)."""

    def get(self, timeout_s: float) -> InboundMessage | None: ...
    def ack(self, messages: Sequence[InboundMessage]) -> int: ...


class PointWriter(Protocol):
    """Where lines go (InfluxWriter in production)."""

    def write(self, lines: Sequence[str]) -> None: ...


class RejectSink(Protocol):
    """Where rejections go; `record` returns only when they are durable."""

    def record(self, messages: Sequence[InboundMessage], rejections: Sequence[Rejection]) -> None: ...


class LoggingRejects:
    """Rejections as WARNING log lines, one per message."""

    def record(self, messages: Sequence[InboundMessage], rejections: Sequence[Rejection]) -> None:
        by_message: dict[int, list[Rejection]] = {}
        for rejection in rejections:
            by_message.setdefault(rejection.message, []).append(rejection)
        for index, found in by_message.items():
            reasons = "; ".join(_describe(r) for r in found[:5])
            more = f" (+{len(found) - 5} more)" if len(found) > 5 else ""
            logger.warning("rejected from %r: %s%s", messages[index].topic[:160], reasons, more)


def _describe(rejection: Rejection) -> str:
    where = f"[{rejection.position}]" if rejection.position is not None else ""
    what = f"{rejection.quantity!r}: " if rejection.quantity else ""  # repr: names may carry newlines
    return f"{where}{what}{rejection.reason.value} ({rejection.detail})"


@dataclass(frozen=True, slots=True)
class PreparedBatch:
    """What a batch becomes before anything is written."""

    lines: list[str]
    origins: list[int]
    rejections: list[Rejection]
    readings: int
    stored: int
    collapsed: int
    flagged: int


@dataclass
class BatchPreparer:
    """Decodes and validates a batch; keeps only caches between batches."""

    series_keys: SeriesKeys = field(default_factory=SeriesKeys)

    def prepare(self, messages: Sequence[InboundMessage]) -> PreparedBatch:
        samples: list[Sample] = []
        rejections: list[Rejection] = []
        receive_times = ReceiveTimes()
        for index, message in enumerate(messages):
            found, refused = decode_message(message, index, receive_times)
            samples.extend(found)
            rejections.extend(refused)
        columns = columns_of(samples)
        reason, collapsed = _reasons(samples, columns)
        accepted = reason == _OK
        accepted &= ~collapsed
        flags = _flags(samples, columns, accepted)
        rows = np.flatnonzero(accepted)
        points = encode_readings(
            samples, columns.sample[rows], columns.quantity[rows], columns.value[rows], self.series_keys
        )
        flagged_rows = np.flatnonzero(flags)
        quality = encode_flags(
            samples, columns.sample[flagged_rows], columns.quantity[flagged_rows], flags[flagged_rows]
        )
        rejections.extend(_row_rejections(samples, columns, reason))
        return PreparedBatch(
            lines=points.lines + quality.lines,
            origins=points.origins + quality.origins,
            rejections=rejections,
            readings=len(columns),
            stored=len(rows),
            collapsed=int(collapsed.sum()),
            flagged=len(flagged_rows),
        )


def _reasons(samples: Sequence[Sample], columns: ReadingColumns) -> tuple[npt.NDArray[np.int8], npt.NDArray[np.bool_]]:
    """Per row: the index of its RejectReason (or _OK), and whether it repeats an identical earlier row."""
    reason = np.full(len(columns), _OK, dtype=np.int8)

    def refuse(mask: npt.NDArray[np.bool_], code: RejectReason) -> None:
        reason[(reason == _OK) & mask] = _REASONS.index(code)

    quantity, value = columns.quantity, columns.value
    refuse(~validate.known(quantity), RejectReason.UNKNOWN_QUANTITY)
    refuse(~columns.numeric, RejectReason.NOT_A_NUMBER)
    refuse(~np.isfinite(value), RejectReason.NON_FINITE)
    candidate = reason == _OK
    safe_quantity = np.where(candidate, quantity, 0)
    refuse(candidate & validate.beyond_hard_limits(safe_quantity, value), RejectReason.HARD_LIMIT)
    series, ts_ms = _series_and_time(samples, columns)
    live = np.flatnonzero(reason == _OK)
    same, conflicting = validate.repeated(series[live], ts_ms[live], quantity[live], value[live])
    collapsed = np.zeros(len(columns), dtype=np.bool_)
    collapsed[live[same]] = True
    conflict_rows = np.zeros(len(columns), dtype=np.bool_)
    conflict_rows[live[conflicting]] = True
    refuse(conflict_rows, RejectReason.DUPLICATE_CONFLICT)
    return reason, collapsed


def _series_and_time(
    samples: Sequence[Sample], columns: ReadingColumns
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    ids: dict[tuple[str, str], int] = {}
    sample_series = np.array(
        [ids.setdefault((s.topic.village, s.topic.device), len(ids)) for s in samples], dtype=np.int64
    )
    sample_ts = np.array([s.ts_ms for s in samples], dtype=np.int64)
    if not len(samples):
        return sample_series, sample_ts
    return sample_series[columns.sample], sample_ts[columns.sample]


def _flags(
    samples: Sequence[Sample], columns: ReadingColumns, accepted: npt.NDArray[np.bool_]
) -> npt.NDArray[np.uint8]:
    """Quality flags of accepted rows (zero elsewhere)."""
    flags = np.zeros(len(columns), dtype=np.uint8)
    if not accepted.any():
        return flags
    quantity = np.where(accepted, columns.quantity, 0)
    clock = np.array([s.clock_flagged for s in samples], dtype=np.bool_)[columns.sample]
    checks = (
        (validate.beyond_soft_limits(quantity, columns.value), QualityFlag.SOFT_LIMIT),
        (clock, QualityFlag.CLOCK),
        (
            validate.pm25_above_pm10(columns.sample, np.where(accepted, columns.quantity, -1), columns.value),
            QualityFlag.CROSS_CHECK,
        ),
    )
    for mask, flag in checks:
        flags[accepted & mask] |= np.uint8(flag)
    return flags


def _row_rejections(
    samples: Sequence[Sample], columns: ReadingColumns, reason: npt.NDArray[np.int8]
) -> list[Rejection]:
    rejections = []
    for row in np.flatnonzero(reason != _OK).tolist():
        sample = samples[int(columns.sample[row])]
        code = _REASONS[int(reason[row])]
        key = columns.keys[row]
        rejections.append(
            Rejection(sample.message, code, _row_detail(code, key, columns, row), key[:64], sample.position)
        )
    return rejections


def _row_detail(code: RejectReason, key: str, columns: ReadingColumns, row: int) -> str:
    value = float(columns.value[row])
    if code is RejectReason.UNKNOWN_QUANTITY:
        return f"{key[:64]!r} is not in the quantity catalogue"
    if code is RejectReason.NOT_A_NUMBER:
        return "the value is not a JSON number"
    if code is RejectReason.NON_FINITE:
        return f"value {value} is not finite"
    quantity = int(columns.quantity[row])
    if code is RejectReason.HARD_LIMIT:
        unit = CATALOGUE[quantity].unit
        return f"{value!r} {unit} outside the physical range {HARD_MIN[quantity]:g}…{HARD_MAX[quantity]:g} {unit}"
    return f"another reading of {key} at the same time has a different value ({value!r} not stored)"


@dataclass
class IngestCounters:
    """Running totals since start (the Prometheus metrics extend these)."""

    messages: int = 0
    readings: int = 0
    stored: int = 0
    rejected: int = 0
    collapsed: int = 0
    flagged: int = 0
    batches: int = 0


class IngestLoop:
    """Runs the stages in order on one thread; stops taking messages when `stop` is set."""

    def __init__(
        self,
        source: MessageSource,
        writer: PointWriter,
        rejects: RejectSink,
        *,
        batch_max_messages: int,
        batch_max_wait_s: float,
        retry_max_s: float = 10.0,
        clock_s: Callable[[], float] = time.monotonic,
    ) -> None:
        self._source = source
        self._writer = writer
        self._rejects = rejects
        self._batch_max_messages = batch_max_messages
        self._batch_max_wait_s = batch_max_wait_s
        self._retry_max_s = retry_max_s
        self._clock_s = clock_s
        self._preparer = BatchPreparer()
        self.counters = IngestCounters()

    def run(self, stop: threading.Event) -> None:
        """Process batches until `stop` is set; the batch in hand is finished (or left unacknowledged)."""
        while not stop.is_set():
            batch = self._collect(stop)
            if batch:
                self.process(batch, stop)

    def _collect(self, stop: threading.Event) -> list[InboundMessage]:
        first = self._source.get(0.2)
        if first is None:
            return []
        batch = [first]
        deadline = self._clock_s() + self._batch_max_wait_s
        while len(batch) < self._batch_max_messages and not stop.is_set():
            remaining = deadline - self._clock_s()
            message = self._source.get(max(remaining, 0.0))
            if message is None:
                break
            batch.append(message)
        return batch

    def process(self, batch: Sequence[InboundMessage], stop: threading.Event) -> bool:
        """Store or reject every reading of `batch`, then acknowledge it. False if stopped before durable."""
        prepared = self._preparer.prepare(batch)
        refused = self._write_durably(prepared, stop)
        if refused is None:
            logger.warning("stopping with %d messages not yet stored; the broker will redeliver them", len(batch))
            return False
        rejections = prepared.rejections + refused
        if rejections:
            self._rejects.record(batch, rejections)
        self._source.ack(batch)
        self._count(batch, prepared, rejections)
        return True

    def _count(self, batch: Sequence[InboundMessage], prepared: PreparedBatch, rejections: Sequence[Rejection]) -> None:
        c = self.counters
        c.batches += 1
        c.messages += len(batch)
        c.readings += prepared.readings
        c.stored += prepared.stored
        c.collapsed += prepared.collapsed
        c.flagged += prepared.flagged
        c.rejected += len(rejections)

    def _write_durably(self, prepared: PreparedBatch, stop: threading.Event) -> list[Rejection] | None:
        """Write until InfluxDB has every line it will ever accept; return rejections for those it refuses."""
        delay_s = 0.5
        warned = False
        while True:
            try:
                return self._write_isolating(prepared)
            except InfluxUnavailable as exc:
                if not warned:
                    logger.error("%s; holding %d lines and retrying", exc, len(prepared.lines))
                    warned = True
            except InfluxRefused as exc:  # 401/403 and friends: a configuration problem, never a reason to drop
                logger.error("%s; check the InfluxDB credentials and database; retrying", exc)
            if stop.wait(delay_s):
                return None
            delay_s = min(delay_s * 2, self._retry_max_s)

    def _write_isolating(self, prepared: PreparedBatch) -> list[Rejection]:
        """Write all lines; on a 400, bisect to find the lines InfluxDB refuses (rewrites are idempotent)."""
        try:
            self._writer.write(prepared.lines)
        except InfluxRefused as exc:
            if exc.status not in (400, 413):
                raise
            refused = self._bisect(prepared.lines, list(range(len(prepared.lines))))
            logger.warning("InfluxDB refused %d of %d lines: %s", len(refused), len(prepared.lines), exc.body[:200])
            return [
                Rejection(
                    prepared.origins[i], RejectReason.WRITE_REFUSED, f"InfluxDB refused {prepared.lines[i][:200]!r}"
                )
                for i in refused
            ]
        return []

    def _bisect(self, lines: Sequence[str], indexes: list[int]) -> list[int]:
        if len(indexes) == 1:
            return indexes
        refused: list[int] = []
        middle = len(indexes) // 2
        for half in (indexes[:middle], indexes[middle:]):
            try:
                self._writer.write([lines[i] for i in half])
            except InfluxRefused as exc:
                if exc.status not in (400, 413):
                    raise
                refused.extend(self._bisect(lines, half))
        return refused
