"""Messages → samples with trustworthy timestamps, status changes, `seq` values, or rejections with a reason.

This is the per-message part of the pipeline, so it is written for speed: each topic is parsed (and given a series
id) once per process, and the common payload — one native JSON object with a `readings` object and an integer
`ts` — takes a single `orjson.loads` and no model. Everything else (store-and-forward arrays, NaN literals, huge
integers, RFC 3339 times, anything invalid) goes through the contract's pydantic decoder, which gives the exact
reason, so both paths accept exactly the same payloads.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import orjson

from devices.errors import InvalidTopicError, PayloadError
from devices.payload import MAX_PAYLOAD_BYTES, MAX_SEQ, InvalidSample, decode_telemetry
from devices.reasons import RejectReason
from devices.senml import InvalidRecord, SenmlReading, decode_senml
from devices.status import decode_status
from devices.timestamps import CREDIBLE_FROM_MS, MAX_FUTURE_MS, is_credible, parse_device_ts
from devices.topics import Channel, Topic
from ingest.columns import NO_POSITION, BatchBuilder, SeriesIds
from ingest.messages import InboundMessage
from ingest.registry import DeviceRegistry, Standing
from ingest.samples import Rejection
from ingest.status import StatusTracker

_ROUTES_MAX = 100_000
_TELEMETRY, _SENML, _STATUS = Channel.TELEMETRY.value, Channel.SENML.value, Channel.STATUS.value
_UNREGISTERED = Standing.UNREGISTERED
_Route = tuple[int, str, Standing]
"""(series id, channel, registry standing) of a valid topic of an admitted device."""


@dataclass
class ReceiveTimes:
    """Receive-time stand-ins for samples without a credible clock, unique per device.

    A buffered array without clocks would otherwise put every sample on the same millisecond and overwrite
    itself in InfluxDB; samples keep their order, one millisecond apart, ending at the receive time. The native
    stand-ins of a device only ever increase, across batches too: a board that flushes its buffer as several
    arrays back to back would otherwise give the second array the milliseconds of the first (when a batch ends
    between them) and overwrite it. SenML relative times keep their spacing and are unique within a batch.
    """

    _last: dict[int, int] = field(default_factory=dict)

    def assign(self, series: int, received_ms: int, *, back: int = 0) -> int:
        ts = max(received_ms - back, self._last.get(series, -1) + 1)
        self._last[series] = ts
        return ts


@dataclass
class Decoded:
    """What decoding a batch produced."""

    builder: BatchBuilder = field(default_factory=BatchBuilder)
    rejections: list[Rejection] = field(default_factory=list)
    seq_series: list[int] = field(default_factory=list)
    seq_values: list[int] = field(default_factory=list)
    seq_redelivered: set[int] = field(default_factory=set)
    """Positions in `seq_values` of messages the broker delivered again (MQTT DUP)."""
    statuses: list[tuple[int, bool, int, int]] = field(default_factory=list)
    """(series, online, receive time, message index) of status changes to store."""
    statuses_repeated: int = 0
    statuses_cleared: int = 0
    unregistered: dict[int, int] = field(default_factory=dict)
    """Unregistered device (series) → index of its last message in the batch."""
    channels: dict[str, int] = field(default_factory=dict)
    times: ReceiveTimes = field(default_factory=ReceiveTimes)
    """Stand-ins for SenML times (this batch)."""
    native_times: ReceiveTimes = field(default_factory=ReceiveTimes)
    """Stand-ins for native samples without a clock (the decoder's, kept across batches)."""


class Decoder:
    """Decodes batches; keeps the parsed topics, series ids and last statuses between them."""

    def __init__(self, series: SeriesIds, *, registry: DeviceRegistry | None, statuses: StatusTracker) -> None:
        self._series = series
        self._registry = registry
        self._registry_generation = -1
        self._statuses = statuses
        # A board that wakes, uploads and sleeps can send online and offline in one millisecond: each status event
        # keeps a point of its own (one millisecond later), in order, instead of overwriting the other.
        self._status_times = ReceiveTimes()
        self._routes: dict[str, _Route | Rejection] = {}
        self._native_times = ReceiveTimes()

    def decode(self, messages: Sequence[InboundMessage]) -> Decoded:  # noqa: PLR0912, PLR0915 - the hot loop, inlined
        """Decode every message; message `i` of the batch is `i` in samples and rejections.

        The loop handles the common message — a valid topic of an admitted device and one native JSON object
        with `readings` and a credible integer `ts` — inline, because it runs once per message.
        """
        if self._registry is not None and self._registry.generation != self._registry_generation:
            self._routes.clear()  # routes carry the registry's verdict
            self._registry_generation = self._registry.generation
        out = Decoded(native_times=self._native_times)
        builder = out.builder
        # Names bound once: this loop runs for every message, and local lookups are the cheap ones in CPython.
        get_route, loads, json_error = self._routes.get, orjson.loads, orjson.JSONDecodeError
        max_bytes, credible_from, max_future, max_seq = MAX_PAYLOAD_BYTES, CREDIBLE_FROM_MS, MAX_FUTURE_MS, MAX_SEQ
        add_message, add_series, add_ts = builder.message.append, builder.series.append, builder.ts_ms.append
        add_count, add_keys, add_values = builder.counts.append, builder.keys.extend, builder.values.extend
        add_raw = builder.raw.append
        add_seq_series, add_seq = out.seq_series.append, out.seq_values.append
        telemetry_channel, unregistered = _TELEMETRY, _UNREGISTERED
        telemetry = 0
        for index, message in enumerate(messages):
            route = get_route(message.topic) or self._route(message.topic)
            if type(route) is Rejection:
                out.rejections.append(replace(route, message=index))
                continue
            series, channel, standing = route  # type: ignore[misc]
            if standing is unregistered:
                out.unregistered[series] = index
            if channel != telemetry_channel:
                self._other_channel(out, message, index, series, channel)
                continue
            telemetry += 1
            payload = message.payload
            obj: Any
            try:
                obj = loads(payload) if len(payload) <= max_bytes else None
            except json_error:
                obj = None
            readings = obj.get("readings") if type(obj) is dict else None
            # More quotes than names means a repeated name, a string value or an escaped quote: the slow path sees.
            if type(readings) is not dict or not readings or payload.count(b'"') != 2 * (len(obj) + len(readings)):
                _decode_slowly(out, message, index, series)
                continue
            ts = obj.get("ts")
            if type(ts) is not int or not credible_from <= ts <= message.received_ms + max_future:
                ts, flagged = _receive_time_unless_credible(out, ts, series, message.received_ms, back=0)
                if flagged:
                    builder.clock_flagged.append(len(builder.ts_ms))
            bat, rssi = obj.get("bat"), obj.get("rssi")
            if bat is not None or rssi is not None:
                if "bat" in readings or "rssi" in readings:  # two values for one reading: the slow path tells
                    _decode_slowly(out, message, index, series)
                    continue
                readings = _with_health(readings, bat, rssi)
                add_raw(None)
            else:
                add_raw(readings)
            add_message(index)
            add_series(series)
            add_ts(ts)
            add_count(len(readings))
            add_keys(readings)
            add_values(readings.values())
            seq = obj.get("seq")
            if type(seq) is int and 0 <= seq <= max_seq:
                if message.dup:
                    out.seq_redelivered.add(len(out.seq_values))
                add_seq_series(series)
                add_seq(seq)
        if telemetry:
            out.channels[_TELEMETRY] = out.channels.get(_TELEMETRY, 0) + telemetry
        return out

    def _route(self, text: str) -> _Route | Rejection:
        """Parse a topic once: its series, channel and the registry's verdict, or why it is refused."""
        found: _Route | Rejection
        try:
            topic = Topic.parse(text)
        except InvalidTopicError as exc:
            found = Rejection(0, RejectReason.INVALID_TOPIC, str(exc))
        else:
            standing = self._registry.admit(topic.village, topic.device) if self._registry else Standing.REGISTERED
            if isinstance(standing, RejectReason):
                assert self._registry is not None  # noqa: S101 - only the registry rejects
                found = Rejection(0, standing, self._registry.detail(topic.village, topic.device))
            else:
                found = (self._series.id(topic.village, topic.device), topic.channel.value, standing)
        if len(self._routes) >= _ROUTES_MAX:  # hostile or broken publishers cannot grow it forever
            self._routes.clear()
        self._routes[text] = found
        return found

    def _other_channel(self, out: Decoded, message: InboundMessage, index: int, series: int, channel: str) -> None:
        out.channels[channel] = out.channels.get(channel, 0) + 1
        if channel == _SENML:
            _decode_senml(out, message, index, series)
        elif channel == _STATUS:
            self._status(out, message, index, series)
        else:
            detail = f"channel {channel!r} is published by the ingestor, not ingested"
            out.rejections.append(Rejection(index, RejectReason.INVALID_TOPIC, detail))

    def _status(self, out: Decoded, message: InboundMessage, index: int, series: int) -> None:
        if not message.payload:  # how MQTT deletes a retained message: the broker relays it, it is not a state
            out.statuses_cleared += 1
            return
        try:
            online = decode_status(message.payload)
        except PayloadError as exc:
            out.rejections.append(Rejection(index, exc.reason, exc.detail))
            return
        if self._statuses.should_store(series, online=online, retained=message.retain):
            out.statuses.append((series, online, self._status_times.assign(series, message.received_ms), index))
        else:
            out.statuses_repeated += 1


def _with_health(readings: dict[str, Any], bat: object, rssi: object) -> dict[str, Any]:
    """`bat` and `rssi` travel outside `readings` but are readings of the `device` measurement."""
    health = {name: value for name, value in (("bat", bat), ("rssi", rssi)) if value is not None}
    return {**readings, **health}


def _receive_time_unless_credible(
    out: Decoded, raw_ts: object, series: int, received_ms: int, *, back: int
) -> tuple[int, bool]:
    """(time, clock flagged): the device time if credible, else a unique receive-time stand-in."""
    device_ms = parse_device_ts(raw_ts)
    if device_ms is not None and is_credible(device_ms, now_ms=received_ms):
        return device_ms, False
    return out.native_times.assign(series, received_ms, back=back), True


def _decode_slowly(out: Decoded, message: InboundMessage, index: int, series: int) -> None:
    try:
        decoded = decode_telemetry(message.payload)
    except PayloadError as exc:
        out.rejections.append(Rejection(index, exc.reason, exc.detail))
        return
    is_array = len(decoded) > 1 or message.payload.lstrip()[:1] == b"["
    for position, item in enumerate(decoded):
        if isinstance(item, InvalidSample):
            out.rejections.append(Rejection(index, item.reason, item.detail, position=item.index))
            continue
        ts, clock_flagged = _receive_time_unless_credible(
            out, item.ts, series, message.received_ms, back=len(decoded) - 1 - position
        )
        readings = dict(item.readings)
        health = item.health()
        # `bat` or `rssi` both in `readings` and beside it: one reading sent twice. The second goes in a sample of
        # its own at the same time, so the duplicate check collapses it (same value) or refuses it, never drops it.
        again = {name: value for name, value in health.items() if name in readings}
        readings.update((name, value) for name, value in health.items() if name not in again)
        for values in (readings, again) if again else (readings,):
            out.builder.add(
                message=index,
                series=series,
                ts_ms=ts,
                clock_flagged=clock_flagged,
                readings=values,
                position=position if is_array else NO_POSITION,
            )
        seq = item.sequence()
        if seq is not None:
            if message.dup:
                out.seq_redelivered.add(len(out.seq_values))
            out.seq_series.append(series)
            out.seq_values.append(seq)


def _decode_senml(out: Decoded, message: InboundMessage, index: int, series: int) -> None:
    """Resolve a SenML pack into samples: one per distinct time, in pack order.

    Relative times, and absolute ones that are not credible, come from the receiver's clock: they are flagged,
    keep their order and spacing, and are made unique per device in the batch like native clockless samples.
    A quantity repeated at one time starts a new sample, so the duplicate check sees both values.
    """
    try:
        records = decode_senml(message.payload, received_ms=message.received_ms)
    except PayloadError as exc:
        out.rejections.append(Rejection(index, exc.reason, exc.detail))
        return
    resolved: list[SenmlReading] = []
    for record in records:
        if isinstance(record, InvalidRecord):
            out.rejections.append(
                Rejection(index, record.reason, record.detail, quantity=record.name, position=record.index)
            )
        else:
            resolved.append(record)
    times = _senml_times(out, resolved, series=series, received_ms=message.received_ms)
    groups: dict[int, list[dict[str, object]]] = {}
    for record, (ts_ms, _) in zip(resolved, times, strict=True):
        samples = groups.setdefault(ts_ms, [{}])
        if record.quantity in samples[-1]:
            samples.append({})
        samples[-1][record.quantity] = record.value
    flagged = {ts_ms for ts_ms, clock in times if clock}
    for ts_ms, samples in groups.items():
        for readings in samples:
            out.builder.add(
                message=index, series=series, ts_ms=ts_ms, clock_flagged=ts_ms in flagged, readings=readings
            )


MAX_KEPT_SPACING_MS = 7 * 86_400_000
"""Wrong clocks (uptime since 1970) spread over more than a week are not spacing anything real: only their order is
kept, one millisecond apart, ending at the receive time (a pack with times 10^300 s apart landed in 1970)."""


def _senml_times(out: Decoded, records: list[SenmlReading], *, series: int, received_ms: int) -> list[tuple[int, bool]]:
    """(time, clock flagged) per record."""
    wrong = {r.ts_ms for r in records if not r.relative_time and not is_credible(r.ts_ms, now_ms=received_ms)}
    untrusted = sorted(wrong)
    if untrusted and untrusted[-1] - untrusted[0] > MAX_KEPT_SPACING_MS:  # no clock spaces readings so: order only
        moved = {ts: received_ms - (len(untrusted) - 1 - rank) for rank, ts in enumerate(untrusted)}
    else:
        moved = {ts: ts + received_ms - untrusted[-1] for ts in untrusted}
    times = [
        (r.ts_ms, True) if r.relative_time else (r.ts_ms, False) if is_credible(r.ts_ms, now_ms=received_ms)
        else (moved[r.ts_ms], True)
        for r in records
    ]  # fmt: skip
    stand_in = {ts: out.times.assign(series, ts) for ts in sorted({ts for ts, clock in times if clock})}
    return [(stand_in[ts], True) if clock else (ts, False) for ts, clock in times]
