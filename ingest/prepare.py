"""A batch of messages → lines to write and rejections to record: decode, admit, validate (vectorized), encode.

No I/O happens here. State kept between batches is what validation needs to see across batch boundaries: the
sensors' last values (spikes, stuck sensors), the devices' `seq` counters and their last stored status.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from devices.quantities import CATALOGUE, HARD_MAX, HARD_MIN
from devices.reasons import QualityFlag, RejectReason
from ingest import validate
from ingest.columns import ReadingColumns, SeriesIds
from ingest.decode import Decoded, Decoder
from ingest.encode import EncodedPoints, LineEncoder
from ingest.history import SensorHistory
from ingest.link import LinkReport, SeqTracker
from ingest.messages import InboundMessage
from ingest.registry import DeviceRegistry
from ingest.samples import Rejection
from ingest.status import StatusTracker

_REASONS = tuple(RejectReason)
_OK = -1
_FLAGS = tuple(QualityFlag)


@dataclass(frozen=True, slots=True)
class PreparedBatch:
    """What a batch becomes before anything is written."""

    lines: list[str]
    origins: list[int]
    """For each line, the index of the message it came from."""
    rejections: list[Rejection]
    readings: int
    stored: int
    collapsed: int
    flags: dict[str, int] = field(default_factory=dict)
    """Flagged readings per QualityFlag field name (a reading may carry several)."""
    device_ts_ms: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    """Device times of stored samples with a credible clock, for the end-to-end lag."""
    link: LinkReport = field(default_factory=LinkReport)
    statuses: int = 0
    statuses_repeated: int = 0
    statuses_cleared: int = 0
    unregistered: int = 0
    """Stored readings of devices the registry does not know (policy accept)."""
    channels: dict[str, int] = field(default_factory=dict)


class BatchPreparer:
    """Decodes and validates batches; keeps only caches and cross-batch validation state."""

    def __init__(
        self,
        *,
        registry: DeviceRegistry | None = None,
        seq_accounting: bool = True,
        history: bool = True,
    ) -> None:
        self.series = SeriesIds()
        self._statuses = StatusTracker()
        self._decoder = Decoder(self.series, registry=registry, statuses=self._statuses)
        self._encoder = LineEncoder(self.series)
        self._seqs = SeqTracker() if seq_accounting else None
        self._history = SensorHistory() if history else None

    def seed_status(self, village: str, device: str, *, online: bool) -> None:
        """Remember a device's last stored status (so a retained repeat of it is not stored again)."""
        self._statuses.seed(self.series.id(village, device), online=online)

    def prepare(self, messages: Sequence[InboundMessage]) -> PreparedBatch:
        """Lines and rejections for every message of the batch."""
        decoded = self._decoder.decode(messages)
        columns = decoded.builder.columns()
        reason, collapsed = _reasons(columns, self._history)
        rows = np.flatnonzero((reason == _OK) & ~collapsed)
        bits = self._flags(columns, rows)
        points = self._encoder.readings(columns, rows)
        flagged = np.flatnonzero(bits)
        quality = self._encoder.flags(columns, rows[flagged], bits[flagged])
        link = (
            self._seqs.observe(decoded.seq_series, decoded.seq_values, decoded.seq_redelivered)
            if self._seqs is not None
            else LinkReport()
        )
        extra = self._extra_points(messages, decoded, columns, link)
        return PreparedBatch(
            lines=points.lines + quality.lines + extra.lines,
            origins=points.origins + quality.origins + extra.origins,
            rejections=decoded.rejections + _row_rejections(columns, reason),
            readings=len(columns),
            stored=len(rows),
            collapsed=int(collapsed.sum()),
            flags=_flag_counts(bits),
            device_ts_ms=_credible_times(columns, rows),
            link=link,
            statuses=len(decoded.statuses),
            statuses_repeated=decoded.statuses_repeated,
            statuses_cleared=decoded.statuses_cleared,
            unregistered=_unregistered_count(columns, rows, decoded.unregistered),
            channels=decoded.channels,
        )

    def _extra_points(
        self, messages: Sequence[InboundMessage], decoded: Decoded, columns: ReadingColumns, link: LinkReport
    ) -> EncodedPoints:
        """Status changes, unregistered-device marks and link accounting: few lines, not per reading."""
        encoder = self._encoder
        lines = [encoder.status(s, online=online, ts_ms=ts) for s, online, ts, _ in decoded.statuses]
        origins = [index for *_, index in decoded.statuses]
        for series, index in sorted(decoded.unregistered.items()):
            lines.append(encoder.unregistered(series, messages[index].received_ms))
            origins.append(index)
        eventful = {series: delta for series, delta in link.devices.items() if delta.eventful}
        last_message = _last_message_of(columns, eventful)
        for series, delta in eventful.items():
            index = last_message[series]
            fields = [
                ("seq", float(delta.seq)),
                ("lost", float(delta.lost)),
                ("duplicated", float(delta.duplicated)),
                ("reboot", float(delta.reboot)),
            ]
            lines.append(encoder.link(series, fields, messages[index].received_ms))
            origins.append(index)
        return EncodedPoints(lines, origins)

    def _flags(self, columns: ReadingColumns, rows: npt.NDArray[np.intp]) -> npt.NDArray[np.uint8]:
        """Quality flags of the accepted `rows`."""
        bits = np.zeros(len(rows), dtype=np.uint8)
        if not len(rows):
            return bits
        quantity, value, sample = columns.quantity[rows], columns.value[rows], columns.sample[rows]
        checks = [
            (validate.beyond_soft_limits(quantity, value), QualityFlag.SOFT_LIMIT),
            (columns.sample_clock[sample], QualityFlag.CLOCK),
            (validate.pm25_above_pm10(sample, quantity, value), QualityFlag.CROSS_CHECK),
        ]
        if self._history is not None:
            spike, stuck = self._history.check(
                columns.sample_series[sample], quantity, columns.sample_ts[sample], value
            )
            checks += [(spike, QualityFlag.SPIKE), (stuck, QualityFlag.STUCK)]
        for mask, flag in checks:
            bits[mask] |= np.uint8(flag)
        return bits


def _reasons(
    columns: ReadingColumns, history: SensorHistory | None
) -> tuple[npt.NDArray[np.int8], npt.NDArray[np.bool_]]:
    """Per row: the index of its RejectReason (or _OK), and whether it repeats an identical earlier row.

    Two values for one point (device, quantity, time) are a conflict within the batch, and also against the
    sensor's last accepted reading from an earlier batch: written, the second would silently replace the first.
    """
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
    live = np.flatnonzero(reason == _OK)
    sample = columns.sample[live]
    same, conflicting = validate.repeated(
        columns.sample_series[sample], columns.sample_ts[sample], quantity[live], value[live]
    )
    collapsed = np.zeros(len(columns), dtype=np.bool_)
    collapsed[live[same]] = True
    conflict_rows = np.zeros(len(columns), dtype=np.bool_)
    conflict_rows[live[conflicting]] = True
    refuse(conflict_rows, RejectReason.DUPLICATE_CONFLICT)
    if history is not None:
        rows = np.flatnonzero((reason == _OK) & ~collapsed)
        sample = columns.sample[rows]
        clash = history.conflicts(columns.sample_series[sample], quantity[rows], columns.sample_ts[sample], value[rows])
        earlier = np.zeros(len(columns), dtype=np.bool_)
        earlier[rows[clash]] = True
        refuse(earlier, RejectReason.DUPLICATE_CONFLICT)
    return reason, collapsed


def _row_rejections(columns: ReadingColumns, reason: npt.NDArray[np.int8]) -> list[Rejection]:
    rejections = []
    for row in np.flatnonzero(reason != _OK).tolist():
        sample = int(columns.sample[row])
        code = _REASONS[int(reason[row])]
        key = columns.keys[row]
        position = columns.sample_position.get(sample)
        rejections.append(
            Rejection(
                int(columns.sample_message[sample]),
                code,
                _row_detail(code, key, columns, row),
                key[:64],
                position,
            )
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


def _flag_counts(bits: npt.NDArray[np.uint8]) -> dict[str, int]:
    if not bits.any():
        return {}
    return {
        flag.field: int(np.count_nonzero(bits & np.uint8(flag))) for flag in _FLAGS if (bits & np.uint8(flag)).any()
    }


def _credible_times(columns: ReadingColumns, rows: npt.NDArray[np.intp]) -> npt.NDArray[np.int64]:
    stored = np.zeros(len(columns.sample_ts), dtype=np.bool_)
    stored[columns.sample[rows]] = True
    return columns.sample_ts[stored & ~columns.sample_clock]


def _unregistered_count(columns: ReadingColumns, rows: npt.NDArray[np.intp], unregistered: dict[int, int]) -> int:
    if not unregistered or not len(rows):
        return 0
    series = columns.sample_series[columns.sample[rows]]
    return int(np.isin(series, np.fromiter(unregistered, dtype=np.int32)).sum())


def _last_message_of(columns: ReadingColumns, series: Mapping[int, object]) -> dict[int, int]:
    """Index of the last message carrying a sample of each of `series`."""
    if not series:
        return {}
    samples = np.flatnonzero(np.isin(columns.sample_series, np.fromiter(series, dtype=np.int32)))
    return dict(zip(columns.sample_series[samples].tolist(), columns.sample_message[samples].tolist(), strict=True))
