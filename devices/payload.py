"""The native telemetry payload, version 1 (DESIGN.md §3): decoding for the ingestor, encoding for devices.

Pydantic checks the envelope only. Values inside `readings` (and `bat`, `rssi`, `ts`, `seq`) stay untyped here
so that one bad value rejects only itself: the ingestor validates values per reading, vectorized. Likewise one
bad object in a store-and-forward array rejects only that object.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from devices import jsontext
from devices.errors import PayloadError
from devices.reasons import RejectReason

MAX_PAYLOAD_BYTES = 256 * 1024
MAX_BATCH_OBJECTS = 1000
MAX_SEQ = 2**32 - 1


class Telemetry(BaseModel):
    """One sample of one device: `{"ts", "seq", "bat", "rssi", "readings"}`; unknown keys are ignored."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    readings: Annotated[dict[str, Any], Field(min_length=1)]
    ts: Any = None
    seq: Any = None
    bat: Any = None
    rssi: Any = None

    def sequence(self) -> int | None:
        """`seq` when it is a uint32; anything else is treated as absent (it only feeds loss accounting)."""
        seq = self.seq
        if isinstance(seq, int) and not isinstance(seq, bool) and 0 <= seq <= MAX_SEQ:
            return seq
        return None

    def health(self) -> dict[str, Any]:
        """`bat` and `rssi` when present: device-health readings that travel outside `readings`."""
        return {name: value for name, value in (("bat", self.bat), ("rssi", self.rssi)) if value is not None}


@dataclass(frozen=True, slots=True)
class InvalidSample:
    """An object of a store-and-forward array that is not a telemetry sample; its siblings are still good."""

    index: int
    reason: RejectReason
    detail: str


def decode_telemetry(payload: bytes) -> tuple[Telemetry | InvalidSample, ...]:
    """Decode a native payload: one object, or a store-and-forward array of 1 to 1,000 objects.

    An object that repeats a name (`{"ph": 7.1, "ph": 8.4}`) is refused whole: a parser would keep one of the
    values and drop the other silently (devices/jsontext.py).

    Raises:
        PayloadError: the payload as a whole is unusable; the reason applies to every reading in it.
    """
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise PayloadError(RejectReason.PAYLOAD_TOO_LARGE, f"{len(payload)} bytes > {MAX_PAYLOAD_BYTES}")
    try:
        value = jsontext.loads(payload)
        marks = jsontext.marked(payload, value)
    except ValueError as exc:
        raise PayloadError(RejectReason.MALFORMED_JSON, str(exc)[:200]) from None
    if not isinstance(value, list):
        return (_sample(None, value, marks),)
    if not value:
        raise PayloadError(RejectReason.INVALID_PAYLOAD, "empty array")
    if len(value) > MAX_BATCH_OBJECTS:
        raise PayloadError(RejectReason.BATCH_TOO_LARGE, f"{len(value)} objects > {MAX_BATCH_OBJECTS}")
    return tuple(_sample(i, item, None if marks is None else marks[i]) for i, item in enumerate(value))


def _sample(index: int | None, item: object, marks: object) -> Telemetry | InvalidSample:
    """One object; `index` None is the whole payload, whose failure is a PayloadError."""
    repeated = jsontext.first_repeated(marks)
    if repeated is not None:
        failure = PayloadError(RejectReason.INVALID_PAYLOAD, f"names repeated in one object: {repeated}")
    else:
        try:
            return Telemetry.model_validate(item)
        except ValidationError as exc:
            failure = PayloadError(RejectReason.INVALID_PAYLOAD, _describe(exc))
    if index is None:
        raise failure
    return InvalidSample(index, failure.reason, failure.detail)


def _describe(exc: ValidationError) -> str:
    """Short, bounded text of the first errors."""
    errors = exc.errors(include_url=False, include_input=False)
    parts = [f"{'.'.join(str(p) for p in e['loc']) or 'payload'}: {e['msg']}" for e in errors[:3]]
    return "; ".join(parts)[:300]


def encode_telemetry(sample: Telemetry | list[Telemetry]) -> bytes:
    """The bytes a device publishes; absent optional fields are left out, as small firmware does."""
    if isinstance(sample, Telemetry):
        return orjson.dumps(sample.model_dump(exclude_none=True))
    return orjson.dumps([s.model_dump(exclude_none=True) for s in sample])
