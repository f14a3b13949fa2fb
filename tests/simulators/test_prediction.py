"""The prediction from the ground truth follows the contract's rules, checked with the devices/ codecs.

The ingestor on main consumes native telemetry only (tests/e2e/test_fault_scenario.py checks those
predictions end to end); the SenML and status predictions are checked here against the shared codecs.
"""

from __future__ import annotations

import itertools

import orjson

from devices.reasons import RejectReason
from devices.senml import encode_senml
from simulators.faults import FaultRates
from simulators.prediction import predict
from simulators.scenario import GroupSpec
from tests.simulators.test_board import START_MS, board, run

NOW_MS = 1_764_489_600_000
TOPIC = "village/v/d1/telemetry"


def entry(payload: bytes | str, *, topic: str = TOPIC, sent_ms: int = NOW_MS, faults=(), event="publish") -> dict:
    text = payload.decode() if isinstance(payload, bytes) else payload
    return {"event": event, "topic": topic, "payload": text, "sent_ms": sent_ms, "faults": list(faults)}


def test_native_rules_per_reading() -> None:
    ts = NOW_MS - 60_000
    prediction = predict(
        [
            entry(orjson.dumps({"ts": ts, "bat": 3.9, "readings": {"ph": 7.0, "turbidity": 5000, "radon": 1}})),
            entry(f'{{"ts": {ts + 1}, "readings": {{"ph": NaN, "do": "high"}}}}'),
            entry('{"ts": 1, "readings": {"ph": 7.1'),
            entry(orjson.dumps({"readings": {"ph": 6.9}})),  # no clock: receive time
            entry(orjson.dumps({"ts": NOW_MS + 3_600_000, "readings": {"ph": 6.8}})),  # an hour ahead: receive time
            entry(orjson.dumps({"ts": ts, "bat": 3.9, "readings": {"ph": 7.0, "turbidity": 5000, "radon": 1}})),
        ]
    )
    assert prediction.points == {("d1", "ph", ts): 7.0, ("d1", "bat", ts): 3.9}  # the duplicate collapses
    assert prediction.receive_time == {("d1", "ph"): 2}
    assert [r.reason for r in prediction.rejections] == [
        RejectReason.HARD_LIMIT,
        RejectReason.UNKNOWN_QUANTITY,
        RejectReason.NON_FINITE,
        RejectReason.NOT_A_NUMBER,
        RejectReason.MALFORMED_JSON,
        RejectReason.HARD_LIMIT,
        RejectReason.UNKNOWN_QUANTITY,
    ]
    assert prediction.stored_count() == 4


def test_arrays_reject_only_the_bad_object() -> None:
    payload = orjson.dumps([{"ts": NOW_MS - 2, "readings": {"ph": 7.0}}, {"readings": {}}, {"ts": NOW_MS - 1}])
    prediction = predict([entry(payload)])
    assert prediction.points == {("d1", "ph", NOW_MS - 2): 7.0}
    assert [(r.reason, r.position) for r in prediction.rejections] == [
        (RejectReason.INVALID_PAYLOAD, 1),
        (RejectReason.INVALID_PAYLOAD, 2),
    ]


def test_senml_prediction_converts_units_and_refuses_wrong_ones() -> None:
    senml = "village/v/d2/senml"
    good = encode_senml("urn:dev:mac:0a", NOW_MS - 1000, {"air_temp": 30.5, "pm25": 25.0, "rssi": -67.0})
    wrong = encode_senml("urn:dev:mac:0a", NOW_MS - 500, {"humidity": 80.0, "pm10": 40.0}, units={"humidity": "Cel"})
    no_clock = encode_senml("urn:dev:mac:0a", 0, {"air_temp": 29.0})
    prediction = predict([entry(good, topic=senml), entry(wrong, topic=senml), entry(no_clock, topic=senml)])
    assert prediction.points == {
        ("d2", "air_temp", NOW_MS - 1000): 30.5,
        ("d2", "pm25", NOW_MS - 1000): 25.0,
        ("d2", "rssi", NOW_MS - 1000): -67.0,
        ("d2", "pm10", NOW_MS - 500): 40.0,
    }
    assert [(r.reason, r.position) for r in prediction.rejections] == [(RejectReason.UNIT_UNCONVERTIBLE, 0)]
    assert prediction.receive_time == {("d2", "air_temp"): 1}


def test_senml_boards_wrong_units_are_predicted_as_refused() -> None:
    spec = GroupSpec(kind="air", interval_s=60, format="senml")
    actions = [a for a in run(board(spec, FaultRates(wrong_unit=0.1), seed=5), 60) if a.format == "senml"]
    entries = [entry(a.payload, topic=a.topic, sent_ms=START_MS + 10**9, faults=a.faults) for a in actions]
    prediction = predict(entries)
    wrong = [f for a in actions for f in a.faults if f["kind"] == "wrong_unit"]
    assert wrong
    assert prediction.rejected_by_reason() == {"unit_unconvertible": len(wrong)}
    assert len(prediction.points) == 60 * 8 - len(wrong)  # 6 air quantities + bat + rssi per sample


def test_statuses_and_last_wills_in_order() -> None:
    status = "village/v/d3/status"
    prediction = predict(
        [
            entry(b"online", topic=status),
            entry(b"offline", topic=status, event="will"),
            entry(b"online", topic=status),
            entry(b"sleeping", topic=status),
        ]
    )
    assert prediction.statuses == [("d3", True), ("d3", False), ("d3", True)]
    assert prediction.final_status == {"d3": True}
    assert [r.reason for r in prediction.rejections] == [RejectReason.INVALID_PAYLOAD]


def test_link_truth_counts_what_seq_accounting_must_find() -> None:
    prediction = predict(
        [
            entry(b'{"seq": 5, "readings": {"ph": 7}}', faults=[{"kind": "dropout", "seq": 4}]),
            entry(b'{"seq": 5, "readings": {"ph": 7}}', faults=[{"kind": "duplicate"}]),
            entry(b'[{"seq": 6, "readings": {"ph"', faults=[{"kind": "malformed_json"}]),
            entry(b'{"seq": 0, "readings": {"ph": 7}}', faults=[{"kind": "brownout"}, {"kind": "brownout_lost"}]),
        ]
    )
    link = prediction.links["d1"]
    assert (link.never_sent, link.duplicated, link.unreadable, link.reboots) == (2, 1, 1, 1)


def test_channels_not_consumed_are_left_out() -> None:
    senml = encode_senml("urn:dev:mac:0a", NOW_MS, {"air_temp": 30.0})
    prediction = predict([entry(senml, topic="village/v/d2/senml")], channels=["telemetry"])
    assert prediction.stored_count() == 0 and prediction.messages == {}


def test_buffered_senml_uploads_are_one_valid_pack_with_every_samples_time() -> None:
    spec = GroupSpec(kind="water", interval_s=600, jitter=0, format="senml", mode="deep_sleep", upload_every=5)
    actions = [a for a in run(board(spec, seed=2), 10) if a.format == "senml"]
    assert len(actions) == 2
    prediction = predict([entry(a.payload, topic=a.topic, sent_ms=START_MS + 10**8) for a in actions])
    times = sorted({ts for (_, _, ts) in prediction.points})
    assert len(times) == 10 and all(b - a == 600_000 for a, b in itertools.pairwise(times))
    assert len(prediction.points) == 10 * 8 and not prediction.rejections


def test_a_battery_reading_sent_twice_collapses_or_the_second_is_refused_never_merged_away() -> None:
    ts = NOW_MS - 60_000
    same = predict([entry(orjson.dumps({"ts": ts, "bat": 3.9, "readings": {"ph": 7.0, "bat": 3.9}}))])
    assert same.points == {("d1", "ph", ts): 7.0, ("d1", "bat", ts): 3.9} and not same.ambiguous
    other = predict([entry(orjson.dumps({"ts": ts, "bat": 4.0, "readings": {"ph": 7.0, "bat": 3.9}}))])
    assert other.points == {("d1", "ph", ts): 7.0, ("d1", "bat", ts): 3.9} and not other.ambiguous
    assert [(r.reason, r.quantity) for r in other.rejections] == [(RejectReason.DUPLICATE_CONFLICT, "bat")]
