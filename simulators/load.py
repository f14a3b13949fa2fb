"""Load mode: as many messages per second as the broker takes, from many simulated devices, none lost.

Devices share a few connections (like gateways), each with a bounded window of unacknowledged QoS 1
messages; the loop publishes wherever there is room and pumps the network otherwise. Payloads are real
board samples stamped with the current time, encoded with the same codec as every other message.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from devices.topics import Channel
from simulators import payloads
from simulators.board import Board
from simulators.pacing import epoch_ms
from simulators.payloads import Sample
from simulators.progress import Snapshot
from simulators.radio import Link, Radio
from simulators.truth import TruthLog


@dataclass(frozen=True, slots=True)
class LoadResult:
    """What a load run achieved."""

    sent: int
    acknowledged: int
    seconds: float

    @property
    def rate(self) -> float:
        """Acknowledged messages per second."""
        return self.acknowledged / self.seconds if self.seconds else 0.0


class LoadRunner:
    """Publishes round-robin over devices and connections, as fast as acknowledgements come back."""

    def __init__(
        self,
        boards: Sequence[Board],
        radio: Radio,
        truth: TruthLog,
        *,
        connections: int,
        window: int,
        client_id: str,
        on_progress: Callable[[Snapshot], None] | None = None,
        clock_ms: Callable[[], int] = epoch_ms,
    ) -> None:
        self._boards = boards
        self._radio = radio
        self._truth = truth
        self._on_progress = on_progress
        self._clock_ms = clock_ms
        self._last_ts = [0] * len(boards)
        self._topics = [board.topic(Channel.TELEMETRY) for board in boards]
        self._links: list[Link] = [
            radio.link(f"{client_id}-{n}", window=window, label="load") for n in range(connections)
        ]
        if not radio.wait(lambda: all(link.connected or link.refused for link in self._links), timeout_s=10):
            raise ConnectionError(f"load connections to {radio.endpoint} not up within 10 s")

    def run(self, stop: threading.Event, *, messages: int | None = None, duration_s: float | None = None) -> LoadResult:
        """Publish until `messages` are sent, `duration_s` passes or `stop` is set; then wait for every ack."""
        started = time.monotonic()
        deadline = None if duration_s is None else started + duration_s
        sent = 0
        links = self._links
        radio = self._radio
        device = 0
        last_progress = started
        while not stop.is_set() and (messages is None or sent < messages):
            link = links[sent % len(links)]
            if not link.has_room:
                radio.pump(0.001)
                if not link.has_room:
                    continue
            topic, payload, kind = self._message(device)
            link.publish(topic, payload, label=kind)
            if self._truth.enabled:
                board = self._boards[device]
                self._truth.record(
                    topic, payload, sent_ms=self._clock_ms(), device=board.device.id, format="native", faults=[]
                )
            sent += 1
            device = (device + 1) % len(self._boards)
            if sent % 128 == 0:
                radio.pump(0)
                now = time.monotonic()
                if deadline is not None and now >= deadline:
                    break
                if self._on_progress is not None and now - last_progress >= 0.25:
                    last_progress = now
                    self._on_progress(self.snapshot())
        radio.drain(60)
        seconds = time.monotonic() - started
        if self._on_progress is not None:
            self._on_progress(self.snapshot())
        return LoadResult(sent=sent, acknowledged=sum(radio.acknowledged.values()), seconds=seconds)

    def _message(self, index: int) -> tuple[str, bytes, str]:
        board = self._boards[index]
        _at, values, _sun, _rain = board.take_reading()
        now = max(self._clock_ms(), self._last_ts[index] + 1)
        self._last_ts[index] = now
        seq = board.next_seq()
        sample = Sample(now, now, seq, board.battery.volts, -60, dict(values))
        return self._topics[index], payloads.native([sample], array=False), board.device.kind

    def snapshot(self) -> Snapshot:
        return Snapshot(
            sent=Counter(self._radio.sent),
            acknowledged=Counter(self._radio.acknowledged),
            errors=Counter(self._radio.errors),
            in_flight=self._radio.in_flight,
            links=self._radio.links,
        )
