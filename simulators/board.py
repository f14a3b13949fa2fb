"""One ESP32-class board, as its firmware behaves: sample, buffer, connect, upload, sleep, brown out, reboot.

The board lives in simulated time. Each `step()` is one wake-up at `next_ms`: it samples (sensors, battery,
RSSI, its own clock), then does what firmware does with the sample and returns the network actions that
follow, all at that instant: connect with a last will and a retained `online`, publish, drop off the network
(the broker then publishes the will `offline`), or publish a retained `offline` and disconnect cleanly before
deep sleep. Samples taken while it cannot send are buffered and later uploaded as store-and-forward arrays.
`seq` counts samples, survives deep sleep (RTC memory) and starts again from `seq_start` after a brown-out.
"""

from __future__ import annotations

import enum
from collections import deque
from dataclasses import dataclass

import numpy as np

from devices.payload import MAX_BATCH_OBJECTS, Telemetry
from devices.registry import RegisteredDevice
from devices.senml import MAX_RECORDS
from devices.topics import Channel, Topic
from simulators import payloads
from simulators.faults import FaultInjector, FaultRates, FaultRecord
from simulators.payloads import Sample
from simulators.power import Battery, Supply, average_load_ma
from simulators.scenario import GroupSpec
from simulators.signals import SignalModel
from simulators.sun import CLEAR_SKY_LUX
from simulators.weather import VillageWeather

MAX_ARRAY_BYTES = 250_000
"""Store-and-forward arrays stay under the contract's 256 KiB per payload, with room to spare."""
_BLOCK = 32
"""Random draws are made in blocks of this many samples, so the data never depends on the chunk size."""
_DAY_MS = 86_400_000
_SEQ_MODULO = 2**32
_NOT_IN_PAYLOAD = frozenset({"dropout", "buffer_overflow", "brownout_lost", "brownout"})
"""Fault records about samples that were never sent: logged once, not again on a duplicate."""


class ActionKind(enum.StrEnum):
    """What a board does on the network."""

    CONNECT = "connect"
    PUBLISH = "publish"
    DROP = "drop"
    """Vanishes without DISCONNECT (Wi-Fi lost, brown-out, killed): the broker publishes the last will."""
    DISCONNECT = "disconnect"


@dataclass(frozen=True, slots=True)
class Action:
    """One network action of a board at simulated time `at_ms`."""

    kind: ActionKind
    at_ms: int
    topic: str = ""
    payload: bytes = b""
    retain: bool = False
    format: str = ""
    faults: tuple[FaultRecord, ...] = ()
    reason: str = ""


class Board:
    """A simulated board with its own random streams: same seed, same samples, same faults."""

    def __init__(
        self,
        device: RegisteredDevice,
        spec: GroupSpec,
        faults: FaultRates,
        *,
        seed: int,
        index: int,
        weather: VillageWeather,
        start_ms: int,
        live_links: bool = True,
        batch_objects: int | None = None,
    ) -> None:
        self.device = device
        self.spec = spec
        self.live_links = live_links
        self._batch_objects = batch_objects
        self._schedule_rng = np.random.default_rng([seed, 31, index])
        self._noise_rng = np.random.default_rng([seed, 32, index])
        fault_rng = np.random.default_rng([seed, 33, index])
        self._net_rng = np.random.default_rng([seed, 34, index])
        self.faults = FaultInjector(faults, fault_rng, allow_nan=spec.format == "native")
        self.flooding = faults.flooding > 0 and fault_rng.random() < faults.flooding
        self.interval_ms = 1000.0 / faults.flood_hz if self.flooding else spec.interval_s * 1000.0
        self.skew_ms = 0
        if faults.clock_skew > 0 and fault_rng.random() < faults.clock_skew:
            self.skew_ms = int(fault_rng.uniform(*faults.clock_skew_s) * 1000)
        self._weather = weather
        self.signals = SignalModel(device.kind, weather, seed=seed, device_index=index, installed_ms=start_ms)
        self.battery = Battery(
            supply=spec.supply,
            capacity_mah=spec.capacity_mah,
            load_ma=average_load_ma(deep_sleep=spec.mode == "deep_sleep", interval_s=spec.interval_s),
            panel_ma=spec.panel_ma,
            soc=float(self._net_rng.uniform(0.6, 0.95)),
        )
        self._rssi_mean = float(self._net_rng.uniform(-82.0, -52.0))
        self._rssi = self._rssi_mean
        self.mac = "24:0a:c4:" + ":".join(f"{b:02x}" for b in self._net_rng.integers(0, 256, 3))
        self.seq = spec.seq_start
        self.boot_ms = start_ms - int(self._net_rng.uniform(0, _DAY_MS))
        self.alive = True
        self.connected = False
        self.outage_until_ms: int | None = None
        self.buffer: deque[Sample] = deque()
        self.pending_faults: list[FaultRecord] = []
        self.wakes = 0
        self.samples_taken = 0
        self._last_step_ms = start_ms
        self._last_sample_ms = -1
        self._chunk = _BLOCK * max(1, (batch_objects or 0) // _BLOCK)
        self._last_scheduled_ms = start_ms - 1
        self.next_ms = start_ms + int(self._schedule_rng.uniform(0, max(self.interval_ms, 1.0)))
        self._refill(self.next_ms)

    # topics

    def topic(self, channel: Channel) -> str:
        return str(Topic(self.device.village, self.device.id, channel))

    @property
    def will(self) -> tuple[str, bytes]:
        """The last will a board leaves with the broker: retained `offline` on its status topic."""
        return self.topic(Channel.STATUS), payloads.status(online=False)

    # schedule and sensors

    def _refill(self, first_ms: int) -> None:
        """Compute the next wake-ups at once: times with jitter, sensor values, sun, rain.

        Random draws come in fixed blocks of _BLOCK samples, so a chunk of any size yields the same data.
        """
        blocks = self._chunk // _BLOCK
        nq = len(self.signals.quantities)
        jitter = self.spec.jitter
        steps = np.concatenate([self._schedule_rng.uniform(-jitter, jitter, _BLOCK) for _ in range(blocks)])
        noise = np.concatenate([self._noise_rng.standard_normal((nq, _BLOCK)) for _ in range(blocks)], axis=1)
        times = np.empty(self._chunk, dtype=np.int64)
        previous = self._last_scheduled_ms
        at = first_ms
        for i, step in enumerate((self.interval_ms * (1.0 + steps)).tolist()):
            at = max(at, previous + 1)
            times[i] = at
            previous = at
            at = int(at + step)
        prev_times = np.concatenate(([self._last_scheduled_ms], times[:-1]))
        measured = self.signals.measure(times, prev_times, noise)
        self._times = times  # kept as arrays: 10,000 boards × a chunk of Python floats would cost ~100 MB
        self._values = np.array([measured[q] for q in self.signals.quantities]).T
        self._sun = self._weather.lux(times) / CLEAR_SKY_LUX
        self._raining = self._weather.storms.active(times)
        self._position = 0
        self._last_scheduled_ms = int(times[-1])
        self._next_after_chunk = at

    def _take(self) -> tuple[int, dict[str, float], float, bool]:
        i = self._position
        taken = (
            int(self._times[i]),
            dict(zip(self.signals.quantities, self._values[i].tolist(), strict=True)),
            float(self._sun[i]),
            bool(self._raining[i]),
        )
        self._position += 1
        if self._position == len(self._times):
            self._refill(self._next_after_chunk)
        self.next_ms = int(self._times[self._position])
        return taken

    def sample(self, ts_ms: int) -> Telemetry:
        """A clean sample at any time the caller chooses (never at or before the previous one: one clock)."""
        ts_ms = max(ts_ms, self._last_sample_ms + 1)
        previous = self._last_sample_ms if self._last_sample_ms >= 0 else ts_ms - int(self.interval_ms)
        self._last_sample_ms = ts_ms
        times = np.array([ts_ms], dtype=np.int64)
        noise = self._noise_rng.standard_normal((len(self.signals.quantities), 1))
        measured = self.signals.measure(times, np.array([previous], dtype=np.int64), noise)
        self.battery.advance(ts_ms - previous, sun=float(self._weather.lux(times)[0] / CLEAR_SKY_LUX))
        self._rssi = self._rssi_mean + 0.9 * (self._rssi - self._rssi_mean) + float(self._net_rng.normal(0, 1.5))
        return Telemetry(
            ts=ts_ms,
            seq=self.next_seq(),
            bat=round(self.battery.volts, 2),
            rssi=round(min(max(self._rssi, -95.0), -35.0)),
            readings={q: float(v[0]) for q, v in measured.items()},
        )

    def take_reading(self) -> tuple[int, dict[str, float], float, bool]:
        """The next scheduled sensor values without any firmware behaviour (load mode)."""
        return self._take()

    def next_seq(self) -> int:
        """Use up and return the next `seq` (load mode)."""
        seq = self.seq
        self.seq = (self.seq + 1) % _SEQ_MODULO
        return seq

    # one wake-up

    def step(self) -> list[Action]:
        """Wake at `next_ms`, sample, and act; returns the network actions of this instant."""
        now, values, sun, raining = self._take()
        self.battery.advance(now - self._last_step_ms, sun=sun)
        self._last_step_ms = now
        self._rssi = self._rssi_mean + 0.9 * (self._rssi - self._rssi_mean) + float(self._net_rng.normal(0, 1.5))
        actions: list[Action] = []
        if not self.alive:
            if not self.battery.can_restart:
                return actions
            self._boot(now)
        elif self.battery.browned_out:
            self._brown_out(now, actions)
            return actions
        sample = self._sample(now, values, raining=raining)
        if self.spec.mode == "deep_sleep":
            self._deep_sleep(now, sample, actions)
        else:
            self._online(now, sample, actions)
        return actions

    def _boot(self, now: int) -> None:
        self.alive = True
        self.seq = self.spec.seq_start
        self.boot_ms = now
        self.connected = False
        self.outage_until_ms = None

    def _brown_out(self, now: int, actions: list[Action]) -> None:
        """The cell sagged below what the regulator needs: the board resets and loses its RAM."""
        self.alive = False
        lost = [{"kind": "brownout_lost", "seq": s.seq, "taken_ms": s.taken_ms} for s in self.buffer]
        self.pending_faults.extend([{"kind": "brownout", "at_ms": now}, *lost])
        self.buffer.clear()
        if self.connected and self.live_links:
            actions.append(Action(ActionKind.DROP, now, reason="brownout"))
        self.connected = False

    def _sample(self, now: int, values: dict[str, float], *, raining: bool) -> Sample | None:
        """Read the sensors; None when the sample is lost before it is ever sent (dropout)."""
        seq = self.seq
        self.seq = (self.seq + 1) % _SEQ_MODULO
        self.samples_taken += 1
        readings, faults = self.faults.readings(values)
        if self.flooding:
            faults.append({"kind": "flooding", "hz": 1000.0 / self.interval_ms})
        if self.faults.happens(self.faults.rates.dropout):
            self.pending_faults.append({"kind": "dropout", "seq": seq, "taken_ms": now})
            return None
        rssi = round(min(max(self._rssi - (3.0 if raining else 0.0), -95.0), -35.0))
        bat = round(self.battery.volts + float(self._net_rng.normal(0, 0.005)), 2)
        return Sample(now, self._device_ts(now), seq, bat, rssi, readings, tuple(faults))

    def _device_ts(self, now: int) -> int | None:
        clock = self.spec.clock
        if clock == "none":
            return None
        if clock == "epoch1970":  # no NTP yet: the clock counts from 1970-01-01 at boot
            return now - self.boot_ms
        return now + self.skew_ms

    # firmware behaviours

    def _online(self, now: int, sample: Sample | None, actions: list[Action]) -> None:
        if self.outage_until_ms is not None:
            if now < self.outage_until_ms:
                self._keep(sample)
                return
            self.outage_until_ms = None
            self._keep(sample)
            self._connect(now, actions)
            self._flush(now, actions)
            return
        if not self.connected:
            self._connect(now, actions)
        elif self.live_links and self._outage_starts():
            actions.append(Action(ActionKind.DROP, now, reason="wifi_outage"))
            self.connected = False
            low, high = self.spec.outage_minutes
            self.outage_until_ms = now + int(self._net_rng.uniform(low, high) * 60_000)
            self._keep(sample)
            return
        if self._batch_objects is not None:
            self._keep(sample)
            if len(self.buffer) >= self._batch_objects:
                self._flush(now, actions)
        elif sample is not None:
            self._publish_sample(now, sample, actions)

    def _deep_sleep(self, now: int, sample: Sample | None, actions: list[Action]) -> None:
        self._keep(sample)
        self.wakes += 1
        every = self._batch_objects or self.spec.upload_every
        if self.wakes % every and len(self.buffer) < every:
            return
        if self.live_links:
            self._connect(now, actions)
            self._flush(now, actions)
            self._shutdown(now, actions)
        else:
            if not self.connected:
                self._connect(now, actions)
            self._flush(now, actions)

    def _outage_starts(self) -> bool:
        rate = self.spec.outages_per_day * self.interval_ms / _DAY_MS
        return rate > 0 and float(self._net_rng.random()) < rate

    def _keep(self, sample: Sample | None) -> None:
        if sample is None:
            return
        self.buffer.append(sample)
        while len(self.buffer) > max(self.spec.max_buffer, self._batch_objects or 0):
            lost = self.buffer.popleft()
            self.pending_faults.append({"kind": "buffer_overflow", "seq": lost.seq, "taken_ms": lost.taken_ms})

    def _connect(self, now: int, actions: list[Action]) -> None:
        actions.append(Action(ActionKind.CONNECT, now))
        self.connected = True
        self._publish(now, self.topic(Channel.STATUS), payloads.status(online=True), "status", actions, retain=True)

    def _shutdown(self, now: int, actions: list[Action]) -> None:
        """Before deep sleep or a clean stop: retained `offline` (ESPHome's shutdown message), DISCONNECT."""
        self._publish(now, self.topic(Channel.STATUS), payloads.status(online=False), "status", actions, retain=True)
        actions.append(Action(ActionKind.DISCONNECT, now))
        self.connected = False

    def finish(self, now: int) -> list[Action]:
        """The run ends: upload what is buffered if the board can, then go offline cleanly."""
        actions: list[Action] = []
        if not self.alive or self.outage_until_ms is not None:
            return actions
        if self.buffer:
            if not self.connected:
                self._connect(now, actions)
            self._flush(now, actions)
        if self.connected:
            self._shutdown(now, actions)
        return actions

    def kill(self, now: int) -> list[Action]:
        """Pull the plug: no DISCONNECT, so the broker publishes the last will."""
        self.alive = False
        self.connected = False
        return [Action(ActionKind.DROP, now, reason="killed")]

    # messages

    def _publish_sample(self, now: int, sample: Sample, actions: list[Action]) -> None:
        if self.spec.format == "senml":
            self._publish_senml(now, sample, actions)
            return
        payload = payloads.native([sample], array=False)
        self._publish(now, self.topic(Channel.TELEMETRY), payload, "native", actions, faults=sample.faults)

    def _publish_senml(self, now: int, sample: Sample, actions: list[Action]) -> None:
        payload, faults = self._senml_pack(sample)
        self._publish(now, self.topic(Channel.SENML), payload, "senml", actions, faults=faults)

    def _senml_pack(self, sample: Sample) -> tuple[bytes, tuple[FaultRecord, ...]]:
        units = self.faults.wrong_units([*sample.readings, "bat", "rssi"])
        faults = list(sample.faults)
        faults += [{"kind": "wrong_unit", "quantity": q, "unit": u} for q, u in units.items()]
        return payloads.senml(f"urn:dev:mac:{self.mac}", sample, units=dict(units) or None), tuple(faults)

    def _flush(self, now: int, actions: list[Action]) -> None:
        """Upload everything buffered: native arrays (≤ flush_batch objects, < 250 kB) or multi-sample SenML packs."""
        samples = list(self.buffer)
        self.buffer.clear()
        if not samples:
            return
        reverse = self.faults.happens(self.faults.rates.out_of_order)
        limit = min(self._batch_objects or self.spec.flush_batch, MAX_BATCH_OBJECTS)
        if self.spec.format == "senml":  # records per pack are limited too: 1,000
            limit = min(limit, MAX_RECORDS // (len(self.signals.quantities) + 2))
        chunks = _chunks(samples, limit)
        if reverse:
            chunks = [list(reversed(c)) for c in reversed(chunks)]
        for chunk in chunks:
            order = ({"kind": "out_of_order", "seqs": [s.seq for s in chunk]},) if reverse else ()
            if self.spec.format == "senml":
                packs = [self._senml_pack(sample) for sample in chunk]
                faults = tuple(f for _, fs in packs for f in fs) + order
                payload = payloads.senml_upload([pack for pack, _ in packs])
                self._publish(now, self.topic(Channel.SENML), payload, "senml", actions, faults=faults)
                continue
            faults = tuple(f for s in chunk for f in s.faults) + order
            payload = payloads.native(chunk, array=True)
            self._publish(now, self.topic(Channel.TELEMETRY), payload, "native", actions, faults=faults)

    def _publish(
        self,
        now: int,
        topic: str,
        payload: bytes,
        fmt: str,
        actions: list[Action],
        *,
        faults: tuple[FaultRecord, ...] = (),
        retain: bool = False,
    ) -> None:
        """Queue one message, with message-level faults (cut short, sent twice) and pending loss records."""
        if fmt != "status":
            faults = (*faults, *self.pending_faults)
            self.pending_faults.clear()
            if self.faults.happens(self.faults.rates.malformed_json):
                cut = self.faults.cut_point(len(payload))
                faults = (*faults, {"kind": "malformed_json", "cut": cut, "original_bytes": len(payload)})
                payload = payloads.malformed(payload, cut)
        actions.append(Action(ActionKind.PUBLISH, now, topic, payload, retain, fmt, faults))
        if fmt != "status" and self.faults.happens(self.faults.rates.duplicate):
            same = tuple(f for f in faults if f["kind"] not in _NOT_IN_PAYLOAD)
            actions.append(Action(ActionKind.PUBLISH, now, topic, payload, retain, fmt, (*same, {"kind": "duplicate"})))


def _chunks(samples: list[Sample], limit: int) -> list[list[Sample]]:
    """Split into arrays of at most `limit` objects and about MAX_ARRAY_BYTES each."""
    chunks: list[list[Sample]] = []
    current: list[Sample] = []
    size = 2
    for sample in samples:
        estimate = 80 + 28 * len(sample.readings)
        if current and (len(current) >= limit or size + estimate > MAX_ARRAY_BYTES):
            chunks.append(current)
            current, size = [], 2
        current.append(sample)
        size += estimate
    if current:
        chunks.append(current)
    return chunks


_ = Supply  # re-exported for scenario authors reading this module
