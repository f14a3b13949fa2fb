"""What the pipeline must store and reject, computed from the ground-truth log alone.

A pure function of the log and the wire contract (devices/): decode each published payload with the same
codecs the ingestor uses, then apply the contract's rules per reading: unknown name → unknown_quantity, not
a JSON number → not_a_number, NaN/∞ → non_finite, beyond the catalogue's hard limits → hard_limit, a whole
payload that is not JSON → malformed_json; a device time before 2020 or more than 5 minutes ahead of the
receive time (here: the send time) is replaced by the receive time. A point's identity is (device,
quantity, time), so duplicate publishes and identical readings collapse into one stored point; readings
stored at the receive time cannot collapse (each copy gets its own time) and are counted instead.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from devices.errors import PayloadError
from devices.payload import InvalidSample, decode_telemetry
from devices.quantities import QUANTITIES
from devices.reasons import RejectReason
from devices.senml import InvalidRecord, decode_senml
from devices.status import decode_status
from devices.timestamps import MAX_FUTURE_MS, is_credible, parse_device_ts
from devices.topics import Channel, Topic

_AMBIGUOUS_MS = 60_000
"""A device time this close to the 'more than 5 minutes ahead' line could go either way: reported."""
_NEVER_SENT = ("dropout", "buffer_overflow", "brownout_lost")

PointKey = tuple[str, str, int]
"""(device, quantity, time in ms)"""


@dataclass(frozen=True, slots=True)
class ExpectedRejection:
    """One rejection the ingestor must record."""

    message: int
    """Index of the published message in the log (counting only published messages)."""
    topic: str
    reason: RejectReason
    quantity: str | None = None
    position: int | None = None


@dataclass
class LinkTruth:
    """Per device: what seq accounting should find."""

    never_sent: int = 0
    """Samples taken (seq used) but never published: dropouts, buffer overflows, lost in a brown-out."""
    unreadable: int = 0
    """Samples inside malformed payloads: their seq cannot be read either."""
    duplicated: int = 0
    reboots: int = 0


@dataclass
class Prediction:
    """The outcome the ground truth implies."""

    points: dict[PointKey, float] = field(default_factory=dict)
    """Readings stored at the device's own time: (device, quantity, ts) → value."""
    receive_time: Counter[tuple[str, str]] = field(default_factory=Counter)
    """Readings stored at the receive time (no credible clock), counted per (device, quantity)."""
    rejections: list[ExpectedRejection] = field(default_factory=list)
    statuses: list[tuple[str, bool]] = field(default_factory=list)
    """Status changes in order (published and last wills): (device, online)."""
    links: dict[str, LinkTruth] = field(default_factory=dict)
    messages: Counter[str] = field(default_factory=Counter)
    """Published messages per channel (duplicates included)."""
    first_from: dict[PointKey, int] = field(default_factory=dict)
    """The message that first stored each point."""
    ambiguous: list[str] = field(default_factory=list)
    """Cases the rules cannot decide from the log (clock at the 5-minute line, same time with two values)."""

    def rejected_by_reason(self) -> Counter[str]:
        return Counter(r.reason.value for r in self.rejections)

    def stored_count(self) -> int:
        """Distinct points the database must hold (each reading at receive time is one)."""
        return len(self.points) + sum(self.receive_time.values())

    @property
    def final_status(self) -> dict[str, bool]:
        return dict(self.statuses)


def predict(entries: Iterable[Mapping[str, Any]], *, channels: Iterable[str] = tuple(Channel)) -> Prediction:
    """Predict the pipeline's outcome for the messages of `entries` on the given channels."""
    wanted = {str(c) for c in channels}
    prediction = Prediction()
    message = -1
    for entry in entries:
        topic = Topic.parse(str(entry["topic"]))
        channel = topic.channel.value
        if entry.get("event", "publish") == "will":
            if channel in wanted:
                prediction.statuses.append((topic.device, False))
            continue
        message += 1
        _account(prediction, topic.device, entry)
        if channel not in wanted:
            continue
        prediction.messages[channel] += 1
        where = _Message(message, str(entry["topic"]), topic.device)
        payload = str(entry["payload"]).encode()
        received_ms = int(entry["sent_ms"])
        if topic.channel is Channel.TELEMETRY:
            _telemetry(prediction, where, payload, received_ms)
        elif topic.channel is Channel.SENML:
            _senml(prediction, where, payload, received_ms)
        elif topic.channel is Channel.STATUS:
            _status(prediction, where, payload)
    return prediction


def _account(prediction: Prediction, device: str, entry: Mapping[str, Any]) -> None:
    link = prediction.links.setdefault(device, LinkTruth())
    faults = entry.get("faults") or []
    kinds = [str(f.get("kind")) for f in faults]
    link.never_sent += sum(kind in _NEVER_SENT for kind in kinds)
    link.duplicated += kinds.count("duplicate")
    link.reboots += kinds.count("brownout")
    if "malformed_json" in kinds:
        text = str(entry["payload"])
        link.unreadable += max(1, text.count('"seq"'))


@dataclass(frozen=True, slots=True)
class _Message:
    index: int
    topic: str
    device: str

    def rejected(
        self, reason: RejectReason, quantity: str | None = None, position: int | None = None
    ) -> ExpectedRejection:
        return ExpectedRejection(self.index, self.topic, reason, quantity, position)


def _telemetry(prediction: Prediction, message: _Message, payload: bytes, received_ms: int) -> None:
    device = message.device
    try:
        decoded = decode_telemetry(payload)
    except PayloadError as exc:
        prediction.rejections.append(message.rejected(exc.reason))
        return
    is_array = len(decoded) > 1 or payload.lstrip()[:1] == b"["
    for position, item in enumerate(decoded):
        if isinstance(item, InvalidSample):
            prediction.rejections.append(message.rejected(item.reason, position=item.index))
            continue
        ts_ms = _credible(prediction, parse_device_ts(item.ts), received_ms, device)
        where = position if is_array else None
        for quantity, raw in [*item.readings.items(), *item.health().items()]:  # bat/rssi may come twice
            reason = _reading_reason(quantity, raw)
            if reason is not None:
                prediction.rejections.append(message.rejected(reason, quantity, where))
            else:
                _store(prediction, message, quantity, float(raw), ts_ms, at=where)


def _senml(prediction: Prediction, message: _Message, payload: bytes, received_ms: int) -> None:
    device = message.device
    try:
        records = decode_senml(payload, received_ms=received_ms)
    except PayloadError as exc:
        prediction.rejections.append(message.rejected(exc.reason))
        return
    # Records timed relative to the receive time, by (quantity, time): one name at one time is one point.
    relative: dict[tuple[str, int], float] = {}
    stand_ins: set[str] = set()  # quantities with an absolute time not credible: stored near the receive time too
    for record in records:
        if isinstance(record, InvalidRecord):
            prediction.rejections.append(message.rejected(record.reason, position=record.index))
            continue
        reason = _reading_reason(record.quantity, record.value)
        if reason is not None:
            prediction.rejections.append(message.rejected(reason, record.quantity, record.index))
            continue
        if not record.relative_time:
            ts_ms = _credible(prediction, record.ts_ms, received_ms, device)
            if ts_ms is None:
                stand_ins.add(record.quantity)
            _store(prediction, message, record.quantity, record.value, ts_ms, at=record.index)
            continue
        key = (record.quantity, record.ts_ms)
        if key not in relative:
            relative[key] = record.value
            _store(prediction, message, record.quantity, record.value, None, at=record.index)
        elif relative[key] != record.value:  # the first record is kept, as with device times
            prediction.rejections.append(
                message.rejected(RejectReason.DUPLICATE_CONFLICT, record.quantity, record.index)
            )
    if stand_ins & {quantity for quantity, _ in relative}:
        prediction.ambiguous.append(f"{device}: relative times and stand-ins for a wrong clock in one pack")


def _status(prediction: Prediction, message: _Message, payload: bytes) -> None:
    try:
        prediction.statuses.append((message.device, decode_status(payload)))
    except PayloadError as exc:
        prediction.rejections.append(message.rejected(exc.reason))


def _reading_reason(quantity: str, raw: object) -> RejectReason | None:
    if quantity not in QUANTITIES:
        return RejectReason.UNKNOWN_QUANTITY
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        return RejectReason.NOT_A_NUMBER
    try:
        value = float(raw)
    except OverflowError:
        return RejectReason.NON_FINITE
    if not math.isfinite(value):
        return RejectReason.NON_FINITE
    limits = QUANTITIES[quantity]
    if value < limits.hard_min or value > limits.hard_max:
        return RejectReason.HARD_LIMIT
    return None


def _credible(prediction: Prediction, ts_ms: int | None, received_ms: int, device: str) -> int | None:
    if ts_ms is None:
        return None
    if abs(ts_ms - (received_ms + MAX_FUTURE_MS)) < _AMBIGUOUS_MS:
        prediction.ambiguous.append(f"{device}: device time {ts_ms} is at the 5-minute line")
    return ts_ms if is_credible(ts_ms, now_ms=received_ms) else None


def _store(
    prediction: Prediction, message: _Message, quantity: str, value: float, ts_ms: int | None, *, at: int | None
) -> None:
    """Two values for one point: within one message the first is stored and the second refused (its order is
    certain); across messages the rules cannot say which arrives first, so the case is ambiguous."""
    device = message.device
    if ts_ms is None:
        prediction.receive_time[(device, quantity)] += 1
        return
    key = (device, quantity, ts_ms)
    seen = prediction.points.get(key)
    if seen is not None and seen != value:
        if prediction.first_from.get(key) == message.index:
            prediction.rejections.append(message.rejected(RejectReason.DUPLICATE_CONFLICT, quantity, at))
            return
        prediction.ambiguous.append(f"{device}: {quantity} at {ts_ms} sent as {seen} and as {value}")
    prediction.points[key] = value
    prediction.first_from.setdefault(key, message.index)
