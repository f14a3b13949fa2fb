"""A fleet of boards publishing on a schedule, with every message written to the ground-truth log."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence

import numpy as np

from devices.payload import encode_telemetry
from devices.registry import DeviceKind, RegisteredDevice, Registry
from simulators.board import Board
from simulators.publisher import Publisher
from simulators.truth import TruthLog
from simulators.villages import DEMO_VILLAGES

logger = logging.getLogger(__name__)

KINDS: tuple[DeviceKind, ...] = ("water", "air", "agri")
_KIND_NAMES_VI = {"water": "Trạm nước", "air": "Trạm không khí", "agri": "Cảm biến ruộng"}


def demo_registry(*, villages: int, devices_per_kind: int, seed: int) -> Registry:
    """Villages from the demo list with `devices_per_kind` boards of each kind placed around each centre."""
    rng = np.random.default_rng(seed)
    chosen = DEMO_VILLAGES[:villages]
    devices = []
    for village in chosen:
        for kind in KINDS:
            for number in range(1, devices_per_kind + 1):
                d_lat, d_lon = rng.normal(0, 0.008, size=2)
                devices.append(
                    RegisteredDevice(
                        id=f"{village.id}-{kind}-{number:02d}",
                        village=village.id,
                        kind=kind,
                        name=f"{_KIND_NAMES_VI[kind]} {number} – {village.name}",
                        lat=round(village.lat + float(d_lat), 5),
                        lon=round(village.lon + float(d_lon), 5),
                    )
                )
    return Registry(villages=chosen, devices=tuple(devices))


def boards_for(registry: Registry, *, seed: int) -> list[Board]:
    """One board per registered device, each with an independent, reproducible random stream."""
    return [Board(device, np.random.default_rng([seed, index])) for index, device in enumerate(registry.devices)]


def epoch_ms() -> int:
    return time.time_ns() // 1_000_000


class FleetRunner:
    """Publishes one message per board per round, spreading the boards over the interval."""

    def __init__(
        self,
        boards: Sequence[Board],
        publisher: Publisher,
        truth: TruthLog,
        *,
        interval_s: float,
        clock_ms: Callable[[], int] = epoch_ms,
    ) -> None:
        self._boards = boards
        self._publisher = publisher
        self._truth = truth
        self._interval_s = interval_s
        self._clock_ms = clock_ms
        self.sent = 0

    def run(self, stop: threading.Event, *, rounds: int | None = None) -> int:
        """Publish until `stop` or after `rounds` rounds; returns the number of messages sent."""
        done = 0
        while not stop.is_set() and (rounds is None or done < rounds):
            self._round(stop)
            done += 1
        return self.sent

    def _round(self, stop: threading.Event) -> None:
        gap_s = self._interval_s / max(len(self._boards), 1)
        for board in self._boards:
            if stop.is_set():
                return
            sample = board.sample(self._clock_ms())
            payload = encode_telemetry(sample)
            topic = str(board.telemetry_topic)
            self._publisher.publish(topic, payload)
            self._truth.record(topic, payload, sent_ms=self._clock_ms(), device=board.device.id)
            self.sent += 1
            if gap_s:
                stop.wait(gap_s)
