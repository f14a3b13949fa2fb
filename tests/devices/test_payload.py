"""The native payload: single objects, store-and-forward arrays, and clear reasons for what cannot be read."""

from __future__ import annotations

import math

import orjson
import pytest

from devices.errors import PayloadError
from devices.payload import (
    MAX_BATCH_OBJECTS,
    MAX_PAYLOAD_BYTES,
    InvalidSample,
    Telemetry,
    decode_telemetry,
    encode_telemetry,
)
from devices.reasons import RejectReason
from devices.timestamps import CREDIBLE_FROM_MS, is_credible, parse_device_ts

DESIGN_EXAMPLE = (
    b'{"ts": 1764489600123, "seq": 4711, "bat": 3.91, "rssi": -67,'
    b' "readings": {"ph": 7.2, "turbidity": 4.1, "water_temp": 28.4}}'
)


def test_design_example_decodes() -> None:
    (sample,) = decode_telemetry(DESIGN_EXAMPLE)
    assert isinstance(sample, Telemetry)
    assert sample.ts == 1764489600123
    assert sample.sequence() == 4711
    assert sample.health() == {"bat": 3.91, "rssi": -67}
    assert sample.readings == {"ph": 7.2, "turbidity": 4.1, "water_temp": 28.4}


def test_array_is_store_and_forward_and_a_bad_object_rejects_only_itself() -> None:
    decoded = decode_telemetry(b'[{"readings": {"ph": 7}}, {"readings": 5}, {"ts": 1, "readings": {"do": 6}}]')
    assert [type(d) for d in decoded] == [Telemetry, InvalidSample, Telemetry]
    bad = decoded[1]
    assert isinstance(bad, InvalidSample) and bad.index == 1 and bad.reason is RejectReason.INVALID_PAYLOAD


def test_unknown_top_level_keys_are_ignored_and_values_stay_raw() -> None:
    (sample,) = decode_telemetry(b'{"fw": "1.2", "readings": {"ph": NaN, "do": "6", "x": true}}')
    assert isinstance(sample, Telemetry)
    assert math.isnan(sample.readings["ph"]) and sample.readings["do"] == "6" and sample.readings["x"] is True


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"{", RejectReason.MALFORMED_JSON),
        (b"", RejectReason.MALFORMED_JSON),
        (b"\xff\xfe", RejectReason.MALFORMED_JSON),
        (b'{"readings": {}}', RejectReason.INVALID_PAYLOAD),
        (b'{"ts": 1}', RejectReason.INVALID_PAYLOAD),
        (b'"online"', RejectReason.INVALID_PAYLOAD),
        (b"[]", RejectReason.INVALID_PAYLOAD),
        (b"1e999", RejectReason.INVALID_PAYLOAD),
        (b"[" + b"[" * 5000 + b"]" * 5000 + b"]", RejectReason.MALFORMED_JSON),
        (b" " * (MAX_PAYLOAD_BYTES + 1), RejectReason.PAYLOAD_TOO_LARGE),
        (orjson.dumps([{"readings": {"ph": 7}}] * (MAX_BATCH_OBJECTS + 1)), RejectReason.BATCH_TOO_LARGE),
    ],
)
def test_unreadable_payloads_carry_a_reason(payload: bytes, reason: RejectReason) -> None:
    with pytest.raises(PayloadError) as caught:
        decode_telemetry(payload)
    assert caught.value.reason is reason
    assert caught.value.detail


def test_encode_then_decode_is_identity() -> None:
    sample = Telemetry(ts=1764489600123, seq=1, bat=4.0, readings={"pm25": 12.0, "pm10": 20.0})
    assert decode_telemetry(encode_telemetry(sample)) == (sample,)
    batch = [sample, Telemetry(readings={"co2": 420.0})]
    assert list(decode_telemetry(encode_telemetry(batch))) == batch
    assert b"seq" not in encode_telemetry(Telemetry(readings={"co2": 420.0}))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1764489600123, 1764489600123),
        (1764489600123.0, 1764489600123),
        ("2025-11-30T08:00:00.123Z", 1764489600123),
        ("2025-11-30T15:00:00.123+07:00", 1764489600123),
        ("2025-11-30T08:00:00", None),  # no offset: the zone is unknown
        ("yesterday", None),
        (True, None),
        (1.5, None),
        (None, None),
    ],
)
def test_device_timestamps(value: object, expected: int | None) -> None:
    assert parse_device_ts(value) == expected


def test_credible_clock_window() -> None:
    now = 1_764_489_600_000
    assert is_credible(now, now_ms=now)
    assert is_credible(now + 5 * 60 * 1000, now_ms=now)
    assert not is_credible(now + 5 * 60 * 1000 + 1, now_ms=now)
    assert not is_credible(CREDIBLE_FROM_MS - 1, now_ms=now)
    assert not is_credible(1_764_489_600, now_ms=now)  # seconds, not milliseconds: 1970
    assert not is_credible(0, now_ms=now)
