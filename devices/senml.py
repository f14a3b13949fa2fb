"""SenML (RFC 8428) packs: resolution of base fields and times, and conversion to canonical readings.

Resolution follows RFC 8428 §4: each base field applies to its record and every later record until the next
record that sets the same base field; name = bn + n; value = bv + v; sum = bs + s; time = bt + t, where a
time below 2**28 is relative to "now" (the receive time) in seconds. A pack whose version is above 10, or that
carries a field ending in "_" (must-understand, §4.4), cannot be used at all.

Records map to quantities by the last segment of their name (`urn:dev:mac:0024befffe804ff1:pm25` → pm25), and
values are converted to the canonical unit of their quantity (devices/units.py).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

import orjson

from devices import jsontext
from devices.errors import PayloadError
from devices.payload import MAX_PAYLOAD_BYTES
from devices.quantities import QUANTITIES
from devices.reasons import RejectReason
from devices.units import PREFERRED_SENML_UNIT, canonical_round, conversion

SENML_VERSION = 10
RELATIVE_TIME_LIMIT_S = 2**28
MAX_RECORDS = 1000
NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9\-:./_]*")
_SEGMENT_SPLIT = re.compile(r"[:/]")
_BASE_FIELDS = ("bn", "bt", "bu", "bv", "bs")
_FAR_S = 1e13
"""Seconds (year ~318,000): absolute times beyond are clamped here, still not credible, before becoming integers."""


@dataclass(frozen=True, slots=True)
class SenmlReading:
    """A resolved record as a canonical reading."""

    index: int
    """Position of the record in the pack."""
    quantity: str
    value: float
    ts_ms: int
    relative_time: bool
    """The time was relative to reception (the device does not know absolute time)."""


@dataclass(frozen=True, slots=True)
class InvalidRecord:
    """A record that is not stored; the rest of the pack still is."""

    index: int
    reason: RejectReason
    detail: str
    name: str | None = None


def decode_senml(payload: bytes, *, received_ms: int) -> tuple[SenmlReading | InvalidRecord, ...]:
    """Resolve a SenML JSON pack into canonical readings, record by record.

    Raises:
        PayloadError: the pack as a whole is unusable (not JSON, not an array, version too new, a `_` field).
    """
    records, marks = _records(payload)
    resolved: list[SenmlReading | InvalidRecord] = []
    base: dict[str, Any] = {}
    version = None
    for index, record in enumerate(records):
        if not isinstance(record, dict):
            resolved.append(InvalidRecord(index, RejectReason.INVALID_SENML, "a record must be a JSON object"))
            continue
        repeated = jsontext.first_repeated(None if marks is None else marks[index])
        if repeated is not None:  # a parser would keep one value and drop the other silently
            detail = f"names repeated in one record: {repeated}"
            resolved.append(InvalidRecord(index, RejectReason.INVALID_SENML, detail))
            continue
        version = _check_version(record, version)
        base.update({key: record[key] for key in _BASE_FIELDS if key in record})
        resolved.append(_resolve(index, record, base, received_ms))
    return tuple(resolved)


def _records(payload: bytes) -> tuple[list[Any], Any]:
    """The records, and `jsontext.marked` of the pack (None when no record repeats a name)."""
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise PayloadError(RejectReason.PAYLOAD_TOO_LARGE, f"{len(payload)} bytes > {MAX_PAYLOAD_BYTES}")
    try:
        records = jsontext.loads(payload, allow_nan=False)
        marks = jsontext.marked(payload, records)
    except ValueError as exc:
        raise PayloadError(RejectReason.MALFORMED_JSON, str(exc)[:200]) from None
    if not isinstance(records, list) or not records:
        raise PayloadError(RejectReason.INVALID_SENML, "a SenML pack is a non-empty JSON array of records")
    if len(records) > MAX_RECORDS:
        raise PayloadError(RejectReason.BATCH_TOO_LARGE, f"{len(records)} records > {MAX_RECORDS}")
    for record in records:
        if isinstance(record, dict):
            must_understand = sorted(k for k in record if isinstance(k, str) and k.endswith("_"))
            if must_understand:
                raise PayloadError(RejectReason.INVALID_SENML, f"unsupported must-understand fields {must_understand}")
    return records, marks


def _check_version(record: dict[str, Any], version: object) -> object:
    if "bver" not in record:
        return version
    bver = record["bver"]
    if not isinstance(bver, int) or isinstance(bver, bool) or bver > SENML_VERSION or bver < 1:
        raise PayloadError(RejectReason.INVALID_SENML, f"SenML version {bver!r} is not supported (≤ {SENML_VERSION})")
    if version is not None and bver != version:
        raise PayloadError(RejectReason.INVALID_SENML, "all records of a pack must share one version")
    return bver


class _RecordError(Exception):
    def __init__(self, reason: RejectReason, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def _number(record: dict[str, Any], base: dict[str, Any], key: str, base_key: str) -> float | None:
    """`base_key + key` when at least one is present (RFC 8428 §4.5.3–4.5.4)."""
    present = [p for p in (record.get(key), base.get(base_key)) if p is not None]
    if not present:
        return None
    if any(isinstance(p, bool) or not isinstance(p, int | float) for p in present):
        raise _RecordError(RejectReason.INVALID_SENML, f"{key}/{base_key} must be numbers")
    return sum(_as_float(p) for p in present)


def _as_float(number: float) -> float:
    """An integer beyond the double range becomes infinite, which callers refuse as not finite."""
    try:
        return float(number)
    except OverflowError:
        return math.inf if number > 0 else -math.inf


def _quantity(name: str) -> str:
    if not NAME_RE.fullmatch(name):
        raise _RecordError(RejectReason.INVALID_SENML, f"name {name[:80]!r} is not a valid SenML name")
    quantity = _SEGMENT_SPLIT.split(name)[-1]
    if quantity not in QUANTITIES:
        raise _RecordError(RejectReason.UNKNOWN_QUANTITY, f"{quantity[:64]!r} is not a known quantity")
    return quantity


def _canonical_value(quantity: str, record: dict[str, Any], base: dict[str, Any]) -> float:
    value = _number(record, base, "v", "bv")
    if value is None:
        kinds = ", ".join(k for k in ("vs", "vb", "vd", "s") if k in record) or "none"
        raise _RecordError(RejectReason.NOT_A_NUMBER, f"no numeric value (has {kinds})")
    unit = record.get("u", base.get("bu"))
    convert = conversion(quantity, unit) if unit is None or isinstance(unit, str) else None
    if convert is None:
        canonical = QUANTITIES[quantity].unit
        raise _RecordError(RejectReason.UNIT_UNCONVERTIBLE, f"unit {unit!r} cannot be converted to {canonical}")
    return canonical_round(convert.to_canonical(value)) if math.isfinite(value) else value


def _time_s(record: dict[str, Any], base: dict[str, Any]) -> float:
    time_s = _number(record, base, "t", "bt") or 0.0
    if not math.isfinite(time_s):
        raise _RecordError(RejectReason.INVALID_SENML, "time is not finite")
    return time_s


def _resolve(
    index: int, record: dict[str, Any], base: dict[str, Any], received_ms: int
) -> SenmlReading | InvalidRecord:
    name = str(base.get("bn", "")) + str(record.get("n", ""))
    try:
        quantity = _quantity(name)
        value = _canonical_value(quantity, record, base)
        time_s = _time_s(record, base)
    except _RecordError as exc:
        return InvalidRecord(index, exc.reason, exc.detail, name[:120])
    relative = abs(time_s) < RELATIVE_TIME_LIMIT_S
    # A time beyond any clock is as wrong as 1970 (not credible), and is kept within 64-bit milliseconds.
    ts_ms = received_ms + round(time_s * 1000) if relative else round(max(-_FAR_S, min(time_s, _FAR_S)) * 1000)
    return SenmlReading(index, quantity, value, ts_ms, relative)


def encode_senml(
    device_name: str, ts_ms: int, readings: dict[str, float], *, units: dict[str, str | None] | None = None
) -> bytes:
    """A pack for one sample with base name and base time, in each quantity's preferred SenML unit.

    `units` overrides the unit per quantity (e.g. RFC 8798 secondary units, or a wrong unit to test rejection).
    """
    chosen = {**PREFERRED_SENML_UNIT, **(units or {})}
    records: list[dict[str, object]] = []
    for quantity, value in readings.items():
        unit = chosen.get(quantity)
        convert = conversion(quantity, unit)
        record: dict[str, object] = {"n": quantity}
        if convert is not None:
            record["v"] = canonical_round(convert.from_canonical(value))
        else:  # a deliberately wrong unit: send the number as-is so the receiver must refuse it
            record["v"] = value
        if unit is not None:
            record["u"] = unit
        records.append(record)
    records[0] = {"bn": f"{device_name}:", "bt": ts_ms / 1000, **records[0]}
    return orjson.dumps(records)
