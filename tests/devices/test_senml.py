"""SenML resolution (RFC 8428 §4) and unit conversion to canonical readings."""

from __future__ import annotations

import math

import orjson
import pytest

from devices.errors import PayloadError
from devices.quantities import QUANTITIES
from devices.reasons import RejectReason
from devices.senml import InvalidRecord, SenmlReading, decode_senml, encode_senml
from devices.units import PREFERRED_SENML_UNIT, SENML_UNITS, conversion

NOW_MS = 1_764_489_600_000


def readings(pack: object, received_ms: int = NOW_MS) -> list[SenmlReading | InvalidRecord]:
    return list(decode_senml(orjson.dumps(pack), received_ms=received_ms))


def test_rfc_8428_example_4_resolves_like_the_spec() -> None:
    # ex4.gen.json of the RFC's repository, with names that map to a quantity.
    pack = [{"bn": "urn:dev:ow:10e2073a01080063:", "bt": 1.320067464e09, "bu": "%RH", "n": "humidity", "v": 21.2}]
    pack += [{"n": "humidity", "t": t, "v": v} for t, v in ((10, 21.3), (20, 21.4), (90, 21.5))]
    resolved = readings(pack)
    assert [(r.ts_ms, r.value) for r in resolved if isinstance(r, SenmlReading)] == [
        (1320067464000, 21.2),
        (1320067474000, 21.3),
        (1320067484000, 21.4),
        (1320067554000, 21.5),
    ]


def test_base_fields_are_tracked_independently() -> None:
    # §5.1.6: a later bn applies from its record on; bt, bu and bv keep their earlier values.
    pack = [
        {"bn": "dev-a:", "bt": 1.7e9, "bu": "Cel", "bv": 20, "n": "air_temp", "v": 1},
        {"bn": "dev-b/", "n": "soil_temp", "v": 2, "t": 5},
        {"n": "water_temp", "u": "K", "v": 280, "bv": 0},
    ]
    resolved = readings(pack)
    assert [(r.quantity, r.value, r.ts_ms) for r in resolved if isinstance(r, SenmlReading)] == [
        ("air_temp", 21.0, 1_700_000_000_000),
        ("soil_temp", 22.0, 1_700_000_005_000),
        ("water_temp", 6.85, 1_700_000_000_000),
    ]


def test_relative_times_count_from_reception() -> None:
    resolved = readings([{"n": "ph", "v": 7.0}, {"n": "ph", "v": 7.1, "t": -60}, {"n": "do", "v": 6, "bt": 10}])
    assert [(r.ts_ms, r.relative_time) for r in resolved if isinstance(r, SenmlReading)] == [
        (NOW_MS, True),
        (NOW_MS - 60_000, True),
        (NOW_MS + 10_000, True),
    ]


@pytest.mark.parametrize(
    ("quantity", "unit", "value", "canonical"),
    [
        ("pm25", "kg/m3", 2.53e-8, 25.3),
        ("pm25", "ug/m3", 25.3, 25.3),
        ("co2", "/", 4.2e-4, 420.0),
        ("co2", "ppb", 420_000, 420.0),
        ("rssi", "dBW", -97, -67.0),
        ("rssi", "dBm", -67, -67.0),  # RFC 8798 worked example: 10 dBm = -20 dBW
        ("water_level", "m", 1.25, 125.0),
        ("water_level", "mm", 1250, 125.0),
        ("ec", "S/m", 0.025, 250.0),
        ("air_temp", "K", 301.55, 28.4),
        ("pressure", "Pa", 100_810, 1008.1),
        ("humidity", "/", 0.76, 76.0),
        ("humidity", "%", 76, 76.0),
        ("bat", "mV", 3910, 3.91),
        ("do", "mg/l", 6.5, 6.5),
        ("ph", None, 7.2, 7.2),
    ],
)
def test_units_convert_to_the_canonical_unit(quantity: str, unit: str | None, value: float, canonical: float) -> None:
    record = {"n": quantity, "v": value, **({"u": unit} if unit else {})}
    (reading,) = readings([record])
    assert isinstance(reading, SenmlReading)
    assert reading.value == canonical


def test_rfc_8798_dbm_example() -> None:
    assert conversion("rssi", "dBW").from_canonical(10) == -20  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        ({"n": "pm25", "u": "g", "v": 1}, RejectReason.UNIT_UNCONVERTIBLE),
        ({"n": "bat", "u": "%EL", "v": 80}, RejectReason.UNIT_UNCONVERTIBLE),
        ({"n": "salinity", "u": "ppt", "v": 1}, RejectReason.UNIT_UNCONVERTIBLE),
        ({"n": "radiation", "v": 1}, RejectReason.UNKNOWN_QUANTITY),
        ({"n": "ph", "vs": "7"}, RejectReason.NOT_A_NUMBER),
        ({"n": "rain", "s": 12.5}, RejectReason.NOT_A_NUMBER),
        ({"n": "ph", "v": "7"}, RejectReason.INVALID_SENML),
        ({"n": "ph", "v": True}, RejectReason.INVALID_SENML),
        ({"n": "-ph", "v": 7}, RejectReason.INVALID_SENML),
        ({"n": "p h", "v": 7}, RejectReason.INVALID_SENML),
        ({"n": "ph\nwater x=1", "v": 7}, RejectReason.INVALID_SENML),
        ({"n": "ph", "v": 7, "u": 5}, RejectReason.UNIT_UNCONVERTIBLE),
    ],
)
def test_a_bad_record_rejects_only_itself(record: dict[str, object], reason: RejectReason) -> None:
    bad, good = readings([record, {"n": "do", "v": 6.2}])
    assert isinstance(bad, InvalidRecord) and bad.reason is reason and bad.index == 0
    assert isinstance(good, SenmlReading) and good.value == 6.2


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"[", RejectReason.MALFORMED_JSON),
        (b"{}", RejectReason.INVALID_SENML),
        (b"[]", RejectReason.INVALID_SENML),
        (b'[{"bver": 11, "n": "ph", "v": 7}]', RejectReason.INVALID_SENML),
        (b'[{"bver": 10, "n": "ph", "v": 7}, {"bver": 5, "n": "ph", "v": 7}]', RejectReason.INVALID_SENML),
        (b'[{"n": "ph", "v": 7, "bt_": 5}]', RejectReason.INVALID_SENML),
        (orjson.dumps([{"n": "ph", "v": 7}] * 1001), RejectReason.BATCH_TOO_LARGE),
    ],
)
def test_unusable_packs_are_refused_whole(payload: bytes, reason: RejectReason) -> None:
    with pytest.raises(PayloadError) as caught:
        decode_senml(payload, received_ms=NOW_MS)
    assert caught.value.reason is reason


def test_encode_then_decode_returns_the_canonical_values() -> None:
    values = {name: (q.hard_min + q.hard_max) / 3 for name, q in QUANTITIES.items()}
    payload = encode_senml("urn:dev:mac:0024befffe804ff1", NOW_MS + 123, values)
    resolved = decode_senml(payload, received_ms=NOW_MS)
    assert all(isinstance(r, SenmlReading) and r.ts_ms == NOW_MS + 123 for r in resolved)
    decoded = {r.quantity: r.value for r in resolved if isinstance(r, SenmlReading)}
    assert decoded.keys() == values.keys()
    for name, value in values.items():
        assert math.isclose(decoded[name], value, rel_tol=1e-9, abs_tol=1e-9), name
    assert b'"u":"kg/m3"' in payload and b'"bt":' in payload


def test_a_wrong_unit_can_be_sent_on_purpose() -> None:
    payload = encode_senml("dev", NOW_MS, {"pm25": 20.0}, units={"pm25": "Cel"})
    (record,) = decode_senml(payload, received_ms=NOW_MS)
    assert isinstance(record, InvalidRecord) and record.reason is RejectReason.UNIT_UNCONVERTIBLE


def test_every_quantity_has_a_unit_table_and_preferred_units_are_listed() -> None:
    assert set(SENML_UNITS) == set(QUANTITIES)
    for quantity, unit in PREFERRED_SENML_UNIT.items():
        assert unit is None or unit in SENML_UNITS[quantity]
