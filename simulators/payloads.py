"""Bytes on the wire, built only with the devices/ codecs so the simulator and the ingestor cannot drift apart.

The two deliberate corruptions happen here, after encoding: NaN written as the JSON token `NaN` (which some
firmware JSON writers emit and orjson cannot), and a payload cut short (malformed JSON).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from devices.payload import Telemetry, encode_telemetry
from devices.senml import encode_senml
from devices.status import encode_status
from simulators.faults import NAN_SENTINEL, FaultRecord

_NAN_QUOTED = f'"{NAN_SENTINEL}"'.encode()


@dataclass(frozen=True, slots=True)
class Sample:
    """One sample a board took: what it measured and what its clock said."""

    taken_ms: int
    """True (simulated) time of the sample."""
    device_ts: int | None
    """What the board's clock says: skewed, 1970-based uptime, or None without a clock."""
    seq: int
    bat: float
    rssi: int
    readings: dict[str, float | str]
    faults: tuple[FaultRecord, ...] = ()

    def telemetry(self) -> Telemetry:
        return Telemetry(ts=self.device_ts, seq=self.seq, bat=self.bat, rssi=self.rssi, readings=self.readings)


def native(samples: Sequence[Sample], *, array: bool) -> bytes:
    """A native telemetry payload: one object, or a store-and-forward array."""
    if array:
        encoded = encode_telemetry([s.telemetry() for s in samples])
    else:
        (sample,) = samples
        encoded = encode_telemetry(sample.telemetry())
    return encoded.replace(_NAN_QUOTED, b"NaN") if _NAN_QUOTED in encoded else encoded


def senml(base_name: str, sample: Sample, *, units: dict[str, str | None] | None = None) -> bytes:
    """A SenML pack of one sample (base name, base time; 0 = "now" for a board without a clock)."""
    readings = {q: float(v) for q, v in sample.readings.items() if isinstance(v, float | int)}
    readings.update(bat=sample.bat, rssi=float(sample.rssi))
    return encode_senml(base_name, sample.device_ts or 0, readings, units=units)


def senml_upload(packs: Sequence[bytes]) -> bytes:
    """Several one-sample packs as one pack: each starts with its own bn and bt, which by RFC 8428 §4 apply
    to the records that follow until the next record that sets them, so the concatenation is a valid pack."""
    return b"[" + b",".join(pack[1:-1] for pack in packs) + b"]"


def status(*, online: bool) -> bytes:
    """The retained status payload (also the last will, `offline`)."""
    return encode_status(online)


def malformed(payload: bytes, cut: int) -> bytes:
    """The payload cut short: any proper prefix of a JSON object or array is invalid JSON."""
    return payload[: max(1, min(cut, len(payload) - 1))]
