"""One simulated ESP32 board: identity, sequence counter and its own random stream."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from devices.payload import Telemetry
from devices.registry import RegisteredDevice
from devices.topics import Channel, Topic
from simulators.signals import sample_readings


@dataclass
class Board:
    """Samples like firmware: a `seq` counter per message, battery and RSSI alongside the readings."""

    device: RegisteredDevice
    rng: np.random.Generator
    seq: int = 0
    last_ts_ms: int = -1
    battery_v: float = field(default=4.05)
    rssi_dbm: float = field(default=-65.0)

    @property
    def telemetry_topic(self) -> Topic:
        return Topic(self.device.village, self.device.id, Channel.TELEMETRY)

    def sample(self, ts_ms: int) -> Telemetry:
        """The next telemetry message at `ts_ms` (never at or before the previous one: one sensor, one clock)."""
        ts_ms = max(ts_ms, self.last_ts_ms + 1)
        self.last_ts_ms = ts_ms
        self.seq = (self.seq + 1) % 2**32
        self.battery_v = round(min(max(self.battery_v + self.rng.normal(-0.0005, 0.002), 3.3), 4.2), 3)
        self.rssi_dbm = round(min(max(self.rssi_dbm + self.rng.normal(0, 1.0), -95.0), -40.0))
        return Telemetry(
            ts=ts_ms,
            seq=self.seq,
            bat=self.battery_v,
            rssi=self.rssi_dbm,
            readings=sample_readings(self.device.kind, ts_ms, self.rng),
        )
