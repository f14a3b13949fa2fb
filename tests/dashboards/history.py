"""A month of fleet history sent the real way: simulator boards → mosquitto → real ingestor → InfluxDB.

Stands in for `village simulate --backfill 30d` (issue 4, not in main yet): the same `Board.sample` and codec,
past device timestamps, uploaded as store-and-forward arrays (what a board does after buffering offline). Also
publishes what the ingest engine turns into `status`, `link` and `rejects`: retained status messages, `seq`
counters with a gap, and a few readings that must be refused.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import orjson
from simulators.publisher import Publisher

from devices.payload import Telemetry, encode_telemetry
from devices.registry import Registry
from devices.status import encode_status
from devices.topics import Channel
from simulators.board import Board
from simulators.fleet import boards_for

DAY_MS = 86_400_000
STEP_MS = 15 * 60_000
ARRAY = 480
"""Samples per store-and-forward upload (≈ 5 days of one board; well under 1,000 objects and 256 KiB)."""


@dataclass
class SentHistory:
    """What was published, per device: (ts_ms, readings incl. bat/rssi), to compute expectations independently."""

    samples: dict[str, list[tuple[int, dict[str, float]]]] = field(default_factory=dict)
    offline: set[str] = field(default_factory=set)
    rejected: int = 0

    def count(self) -> int:
        """Samples sent over all devices."""
        return sum(len(v) for v in self.samples.values())


def _uploads(board: Board, start_ms: int, end_ms: int, sent: SentHistory) -> Iterator[bytes]:
    batch: list[Telemetry] = []
    ts = start_ms
    while ts <= end_ms:
        sample = board.sample(ts)
        if board.device.id.endswith("-01") and len(batch) == 7:
            board.seq += 3  # three messages lost on the way: the ingest engine counts the gap in `link`
        batch.append(sample)
        readings = {**sample.readings, "bat": float(sample.bat), "rssi": float(sample.rssi)}
        sent.samples.setdefault(board.device.id, []).append((sample.ts if isinstance(sample.ts, int) else ts, readings))
        if len(batch) == ARRAY:
            yield encode_telemetry(batch)
            batch = []
        ts += STEP_MS
    if batch:
        yield encode_telemetry(batch)


def publish_history(publisher: Publisher, registry: Registry, *, now_ms: int, days: int, seed: int) -> SentHistory:
    """Publish `days` of history ending at `now_ms` for every board of `registry`, plus status and bad readings."""
    sent = SentHistory()
    boards = boards_for(registry, seed=seed)
    for index, board in enumerate(boards):
        start = now_ms - days * DAY_MS + (index * STEP_MS) // len(boards)
        for payload in _uploads(board, start, now_ms, sent):
            publisher.publish(str(board.telemetry_topic), payload)
        online = index % 7 != 3  # a few boards whose last will said offline
        if not online:
            sent.offline.add(board.device.id)
        publisher.publish(str(board.telemetry_topic.with_channel(Channel.STATUS)), encode_status(online), retain=True)
    bad = boards[0]
    for value in (5000.0, -3.0):  # beyond the hard limits of turbidity / pm25: refused with reason hard_limit
        quantity = "pm25" if bad.device.kind == "air" else "turbidity"
        payload = orjson.dumps({"ts": now_ms - 60_000, "readings": {quantity: value, "radiation": 1.0}})
        publisher.publish(str(bad.telemetry_topic), payload)
        sent.rejected += 2
    return sent


def clear_status(publisher: Publisher, registry: Registry) -> None:
    """Remove the retained status messages so later tests on the same broker do not receive them."""
    for board in boards_for(registry, seed=0):
        publisher.publish(str(board.telemetry_topic.with_channel(Channel.STATUS)), b"", retain=True)
