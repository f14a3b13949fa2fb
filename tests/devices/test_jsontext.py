"""One JSON parse for every path, and objects that repeat a name refused, never silently halved.

Found by the hostile-input corpus of issue 9: `{"readings": {"ph": 7.1, "ph": 8.4}}` was stored as ph 8.4 and the
7.1 vanished without a rejection (both parsers keep the last value); and a sample nested 201-1,024 levels deep was
stored alone (orjson) but refused with its whole store-and-forward array (pydantic's parser stops at 200).
"""

from __future__ import annotations

import pytest

from devices import jsontext
from devices.errors import PayloadError
from devices.payload import InvalidSample, Telemetry, decode_telemetry
from devices.reasons import RejectReason
from devices.senml import InvalidRecord, SenmlReading, decode_senml
from devices.status import decode_status

NOW_MS = 1_764_489_600_000
DEEP = b"[" * 500 + b"]" * 500


@pytest.mark.parametrize(
    "payload",
    [
        b'{"readings": {"ph": 7.1, "ph": 8.4}}',
        b'{"readings": {"ph": 7.1}, "readings": {"do": 6.0}}',
        b'{"readings": {"ph": 7.1}, "ts": 1764489600000, "ts": 1764489000000}',
        b'{"readings": {"ph": 7.1, "p\\u0068": 8.4}}',  # the same name, escaped
        b'{"readings": {"ph": 7.1, "do": NaN, "ph": 8.4}}',  # through the second parser
        b'{"readings": {"ph": 7.1}, "x": {"a": 1, "a": 2}}',
    ],
)
def test_an_object_that_repeats_a_name_is_refused_whole(payload: bytes) -> None:
    with pytest.raises(PayloadError) as caught:
        decode_telemetry(payload)
    assert caught.value.reason is RejectReason.INVALID_PAYLOAD
    assert "names repeated" in caught.value.detail


def test_in_an_array_only_the_object_that_repeats_a_name_is_refused() -> None:
    decoded = decode_telemetry(
        b'[{"readings": {"ph": 7.1}}, {"readings": {"do": 6.0, "do": 6.5}}, {"readings": {"ec": 9}}]'
    )
    assert isinstance(decoded[0], Telemetry) and isinstance(decoded[2], Telemetry)
    assert isinstance(decoded[1], InvalidSample) and decoded[1].reason is RejectReason.INVALID_PAYLOAD
    assert "'do'" in decoded[1].detail


def test_a_senml_record_that_repeats_a_name_rejects_only_itself() -> None:
    records = decode_senml(b'[{"n": "ph", "v": 7.1, "v": 8.4}, {"n": "do", "v": 6.0}]', received_ms=NOW_MS)
    assert isinstance(records[0], InvalidRecord) and records[0].reason is RejectReason.INVALID_SENML
    assert isinstance(records[1], SenmlReading) and records[1].quantity == "do"


def test_a_status_that_repeats_its_state_is_refused() -> None:
    with pytest.raises(PayloadError):
        decode_status(b'{"state": "online", "state": "offline"}')


def test_the_same_names_in_different_objects_are_fine() -> None:
    decoded = decode_telemetry(b'[{"readings": {"ph": 7.1}}, {"readings": {"ph": 7.2}, "ts": "2025-11-30T08:00:00Z"}]')
    assert [s.readings for s in decoded if isinstance(s, Telemetry)] == [{"ph": 7.1}, {"ph": 7.2}]


def test_nesting_beyond_the_second_parsers_limit_decodes_alone_and_in_an_array_alike() -> None:
    sample = b'{"readings": {"ph": 7.1}, "x": %s}' % DEEP
    (alone,) = decode_telemetry(sample)
    in_array = decode_telemetry(b"[%s, %s]" % (sample, b'{"readings": {"do": 6.0}}'))
    assert isinstance(alone, Telemetry) and alone.readings == {"ph": 7.1}
    assert [s.readings for s in in_array if isinstance(s, Telemetry)] == [{"ph": 7.1}, {"do": 6.0}]


def test_nan_infinity_and_huge_integers_still_parse() -> None:
    value = jsontext.loads(b'{"a": NaN, "b": -Infinity, "c": 123456789012345678901234567890}')
    assert value["c"] == 123456789012345678901234567890 and value["b"] == float("-inf")
    with pytest.raises(ValueError, match="expected value"):
        jsontext.loads(b'{"a": NaN}', allow_nan=False)
    assert jsontext.loads(b"[18446744073709551616, 1e999]", allow_nan=False) == [2**64, float("inf")]


def test_a_senml_value_beyond_64_bits_or_the_double_range_rejects_only_its_record() -> None:
    records = decode_senml(b'[{"n": "ec", "v": 18446744073709551616}, {"n": "ph", "v": 1e999}, {"n": "do", "v": 6}]',
                           received_ms=NOW_MS)  # fmt: skip
    assert [type(r).__name__ for r in records] == ["SenmlReading"] * 3  # values are judged per reading later
    assert records[0].value > 1e19 and records[1].value == float("inf")  # hard_limit and non_finite, each alone


def test_the_cheap_check_counts_names_and_strings() -> None:
    assert jsontext.marked(b'{"a": "x", "b": [1, {"c": "d"}]}', {"a": "x", "b": [1, {"c": "d"}]}) is None
    assert jsontext.strings_in([[[["deep"]]], {"k": None}]) == 2
