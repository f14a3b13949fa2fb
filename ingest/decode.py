"""From an inbound message to samples with trustworthy timestamps, or to rejections with a reason."""

from __future__ import annotations

from dataclasses import dataclass, field

from devices.errors import InvalidTopicError, PayloadError
from devices.payload import InvalidSample, Telemetry, decode_telemetry
from devices.reasons import RejectReason
from devices.timestamps import is_credible, parse_device_ts
from devices.topics import Channel, Topic
from ingest.messages import InboundMessage
from ingest.samples import Rejection, Sample


@dataclass
class ReceiveTimes:
    """Receive-time stand-ins for samples without a credible clock, unique per device within a batch.

    A buffered array without clocks would otherwise put every sample on the same millisecond and overwrite
    itself in InfluxDB; samples keep their order, one millisecond apart, ending at the receive time.
    """

    _last: dict[tuple[str, str], int] = field(default_factory=dict)

    def assign(self, topic: Topic, received_ms: int, *, back: int) -> int:
        key = (topic.village, topic.device)
        ts = max(received_ms - back, self._last.get(key, -1) + 1)
        self._last[key] = ts
        return ts


def decode_message(
    message: InboundMessage, index: int, receive_times: ReceiveTimes
) -> tuple[list[Sample], list[Rejection]]:
    """Decode one message of a batch; `index` is its position, carried into every sample and rejection."""
    try:
        topic = Topic.parse(message.topic)
    except InvalidTopicError as exc:
        return [], [Rejection(index, RejectReason.INVALID_TOPIC, str(exc))]
    if topic.channel is not Channel.TELEMETRY:
        detail = f"channel {topic.channel.value!r} is not ingested by this path"
        return [], [Rejection(index, RejectReason.INVALID_TOPIC, detail)]
    try:
        decoded = decode_telemetry(message.payload)
    except PayloadError as exc:
        return [], [Rejection(index, exc.reason, exc.detail)]
    samples: list[Sample] = []
    rejections: list[Rejection] = []
    is_array = len(decoded) > 1 or message.payload.lstrip()[:1] == b"["
    for position, item in enumerate(decoded):
        if isinstance(item, InvalidSample):
            rejections.append(Rejection(index, item.reason, item.detail, position=item.index))
            continue
        back = len(decoded) - 1 - position
        samples.append(
            _sample(
                item,
                topic,
                index=index,
                received_ms=message.received_ms,
                receive_times=receive_times,
                back=back,
                position=position if is_array else None,
            )
        )
    return samples, rejections


def _sample(
    item: Telemetry,
    topic: Topic,
    *,
    index: int,
    received_ms: int,
    receive_times: ReceiveTimes,
    back: int,
    position: int | None,
) -> Sample:
    device_ms = parse_device_ts(item.ts)
    credible = device_ms is not None and is_credible(device_ms, now_ms=received_ms)
    ts_ms = device_ms if credible and device_ms is not None else receive_times.assign(topic, received_ms, back=back)
    readings = {**item.readings, **item.health()}
    return Sample(index, topic, ts_ms, not credible, readings, position)
