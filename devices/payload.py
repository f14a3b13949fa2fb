"""The native telemetry payload, version 1 (DESIGN.md §3): decoding for the ingestor, encoding for devices.

Pydantic checks the envelope only. Values inside `readings` (and `bat`, `rssi`, `ts`, `seq`) stay untyped here
so that one bad value rejects only itself: the ingestor validates values per reading, vectorized. Likewise one
bad object in a store-and-forward array rejects only that object.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

import orjson
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

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


_PAYLOAD = TypeAdapter(Telemetry | list[Any])


def decode_telemetry(payload: bytes) -> tuple[Telemetry | InvalidSample, ...]:
    """Decode a native payload: one object, or a store-and-forward array of 1 to 1,000 objects.

    Raises:
        PayloadError: the payload as a whole is unusable; the reason applies to every reading in it.
    """
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise PayloadError(RejectReason.PAYLOAD_TOO_LARGE, f"{len(payload)} bytes > {MAX_PAYLOAD_BYTES}")
    try:
        decoded = _PAYLOAD.validate_json(payload)
    except ValidationError as exc:
        raise _payload_error(exc) from exc
    if isinstance(decoded, Telemetry):
        return (decoded,)
    if not decoded:
        raise PayloadError(RejectReason.INVALID_PAYLOAD, "empty array")
    if len(decoded) > MAX_BATCH_OBJECTS:
        raise PayloadError(RejectReason.BATCH_TOO_LARGE, f"{len(decoded)} objects > {MAX_BATCH_OBJECTS}")
    return tuple(_sample(index, item) for index, item in enumerate(decoded))


def _sample(index: int, item: object) -> Telemetry | InvalidSample:
    try:
        return Telemetry.model_validate(item)
    except ValidationError as exc:
        return InvalidSample(index, RejectReason.INVALID_PAYLOAD, _describe(exc, skip=0))


def _payload_error(exc: ValidationError) -> PayloadError:
    errors = exc.errors(include_url=False, include_input=False)
    if errors[0]["type"] == "json_invalid":
        return PayloadError(RejectReason.MALFORMED_JSON, str(errors[0]["msg"])[:200])
    return PayloadError(RejectReason.INVALID_PAYLOAD, _describe(exc, skip=1))


def _describe(exc: ValidationError, *, skip: int) -> str:
    """Short, bounded text of the first errors; `skip` drops the union branch name from each location."""
    errors = exc.errors(include_url=False, include_input=False)
    if skip:  # The union reports both branches; an object that failed is explained by the object branch.
        errors = [e for e in errors if e["loc"][:1] == ("Telemetry",)] or errors
    parts = [f"{'.'.join(str(p) for p in e['loc'][skip:]) or 'payload'}: {e['msg']}" for e in errors[:3]]
    return "; ".join(parts)[:300]


def encode_telemetry(sample: Telemetry | list[Telemetry]) -> bytes:
    """The bytes a device publishes; absent optional fields are left out, as small firmware does."""
    if isinstance(sample, Telemetry):
        return orjson.dumps(sample.model_dump(exclude_none=True))
    return orjson.dumps([s.model_dump(exclude_none=True) for s in sample])
