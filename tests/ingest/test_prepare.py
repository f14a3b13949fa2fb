"""Batch preparation (decode → validate → encode) without I/O: what is stored, flagged and rejected, and why."""

from __future__ import annotations

import orjson
import pytest

from devices.reasons import RejectReason
from ingest.messages import InboundMessage
from ingest.prepare import BatchPreparer, PreparedBatch

NOW_MS = 1_764_489_600_000


def message(payload: object, *, topic: str = "village/v1/d1/telemetry", received_ms: int = NOW_MS) -> InboundMessage:
    raw = payload if isinstance(payload, bytes) else orjson.dumps(payload)
    return InboundMessage(topic, raw, qos=1, retain=False, mid=1, received_ms=received_ms, session=1)


def prepare(*messages: InboundMessage) -> PreparedBatch:
    return BatchPreparer().prepare(list(messages))


def reasons(batch: PreparedBatch) -> list[tuple[int, str | None, RejectReason]]:
    return [(r.message, r.quantity, r.reason) for r in batch.rejections]


def test_one_line_per_measurement_with_health_in_device() -> None:
    batch = prepare(message({"ts": NOW_MS - 1000, "bat": 3.9, "rssi": -60, "readings": {"ph": 7.2, "pm25": 10}}))
    assert sorted(batch.lines) == sorted([
        f"air,device=d1,village=v1 pm25=10.0 {NOW_MS - 1000}",
        f"device,device=d1,village=v1 bat=3.9,rssi=-60.0 {NOW_MS - 1000}",
        f"water,device=d1,village=v1 ph=7.2 {NOW_MS - 1000}",
    ])  # fmt: skip
    assert (batch.readings, batch.stored, batch.rejections) == (4, 4, [])


def test_each_bad_value_rejects_only_itself() -> None:
    batch = prepare(
        message(
            b'{"ts": %d, "readings": {"ph": 15, "do": NaN, "turbidity": "4", "x": 1, "ec": 250, "co2": null}}' % NOW_MS
        ),
        message(b"{not json", topic="village/v1/d2/telemetry"),
        message({"readings": {"ph": 7}}, topic="village/v 1/d3/telemetry"),
        message({"ts": NOW_MS, "readings": {"ph": 7.0}}, topic="village/v1/d4/telemetry"),
    )
    assert sorted(reasons(batch), key=str) == sorted([
        (0, "ph", RejectReason.HARD_LIMIT),
        (0, "do", RejectReason.NON_FINITE),
        (0, "turbidity", RejectReason.NOT_A_NUMBER),
        (0, "x", RejectReason.UNKNOWN_QUANTITY),
        (0, "co2", RejectReason.NOT_A_NUMBER),
        (1, None, RejectReason.MALFORMED_JSON),
        (2, None, RejectReason.INVALID_TOPIC),
    ], key=str)  # fmt: skip
    assert sorted(batch.lines) == [
        f"water,device=d1,village=v1 ec=250.0 {NOW_MS}",
        f"water,device=d4,village=v1 ph=7.0 {NOW_MS}",
    ]
    assert "physical range 0…14 pH" in next(r.detail for r in batch.rejections if r.quantity == "ph")


def test_nan_literal_and_huge_integers_are_values_not_json_errors() -> None:
    batch = prepare(message(b'{"readings": {"ph": NaN, "co2": Infinity, "ec": 100000000000000000000000000}}'))
    assert sorted((r.quantity, r.reason) for r in batch.rejections) == [
        ("co2", RejectReason.NON_FINITE),
        ("ec", RejectReason.HARD_LIMIT),
        ("ph", RejectReason.NON_FINITE),
    ]


def test_soft_limits_clock_and_cross_check_are_stored_and_flagged() -> None:
    batch = prepare(message({"readings": {"pm25": 60, "pm10": 40, "co2": 2500}}))
    assert batch.stored == 3 and not batch.rejections
    quality = sorted(line.split(" ")[:2] for line in batch.lines if line.startswith("quality"))
    assert quality == [
        ["quality,device=d1,quantity=co2,village=v1", "soft_limit=1.0,clock=1.0"],
        ["quality,device=d1,quantity=pm10,village=v1", "clock=1.0,cross_check=1.0"],
        ["quality,device=d1,quantity=pm25,village=v1", "clock=1.0,cross_check=1.0"],
    ]


def test_clockless_buffered_samples_keep_order_and_distinct_times() -> None:
    samples = [{"ts": 0, "readings": {"ph": 7.0 + i / 10}} for i in range(3)]
    batch = prepare(message(samples, received_ms=NOW_MS))
    times = [int(line.rsplit(" ", 1)[1]) for line in batch.lines if line.startswith("water")]
    assert times == [NOW_MS - 2, NOW_MS - 1, NOW_MS]


def test_redelivered_duplicates_collapse_and_conflicts_are_rejected() -> None:
    same = {"ts": NOW_MS, "readings": {"ph": 7.0}}
    batch = prepare(message(same), message(same), message({"ts": NOW_MS, "readings": {"ph": 7.5}}))
    assert batch.collapsed == 1
    assert batch.stored == 1
    assert reasons(batch) == [(2, "ph", RejectReason.DUPLICATE_CONFLICT)]


def test_array_positions_are_reported() -> None:
    batch = prepare(message([{"ts": NOW_MS - 1, "readings": {"ph": 7}}, {"readings": []}, {"readings": {"ph": -1}}]))
    assert sorted((r.position, r.reason) for r in batch.rejections) == [
        (1, RejectReason.INVALID_PAYLOAD),
        (2, RejectReason.HARD_LIMIT),
    ]
    assert batch.stored == 1


@pytest.mark.parametrize(
    ("channel", "reason"),
    [
        ("status", RejectReason.INVALID_PAYLOAD),
        ("senml", RejectReason.INVALID_SENML),
        ("rejected", RejectReason.INVALID_TOPIC),
    ],
)
def test_each_channel_has_its_own_format(channel: str, reason: RejectReason) -> None:
    batch = prepare(message({"readings": {"ph": 7}}, topic=f"village/v1/d1/{channel}"))
    assert reasons(batch) == [(0, None, reason)]
