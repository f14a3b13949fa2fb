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


def test_senml_packs_resolve_base_fields_relative_times_and_units() -> None:
    base_s = NOW_MS / 1000 - 120
    pack = [
        {"bn": "urn:dev:mac:0024befffe804ff1:", "bt": base_s, "bu": "Cel", "n": "water_temp", "v": 28.5},
        {"n": "air_temp", "u": "K", "v": 303.15, "t": 60},  # base unit overridden; bt + t
        {"n": "water_level", "u": "m", "v": 1.25},  # RFC 8428 primary unit, canonical is cm
        {"n": "pm25", "u": "kg/m3", "v": 2.53e-8},  # mass concentration, canonical µg/m³
        {"n": "pm10", "u": "ug/m3", "v": 40},  # RFC 8798 secondary unit
        {"n": "rssi", "u": "dBW", "v": -97},  # dBm = dBW + 30
        {"n": "co2", "u": "ppm", "v": 415},
        {"n": "ec", "u": "S/m", "v": 0.025},  # 250 µS/cm
        {"bt": 0, "n": "ph", "u": "pH", "v": 7.1},  # relative: now (the base unit Cel still applies, so: u)
        {"n": "ph", "u": "pH", "v": 7.0, "t": -30},  # relative: 30 s ago
    ]
    batch = prepare(message(pack, topic="village/v1/d1/senml"))
    assert not batch.rejections
    lines = sorted(line for line in batch.lines if not line.startswith("quality"))
    t0 = NOW_MS - 120_000
    assert lines == sorted([
        f"water,device=d1,village=v1 water_temp=28.5,water_level=125.0,ec=250.0 {t0}",
        f"air,device=d1,village=v1 air_temp=30.0 {t0 + 60_000}",
        f"air,device=d1,village=v1 pm25=25.3,pm10=40.0,co2=415.0 {t0}",
        f"device,device=d1,village=v1 rssi=-67.0 {t0}",
        f"water,device=d1,village=v1 ph=7.1 {NOW_MS}",
        f"water,device=d1,village=v1 ph=7.0 {NOW_MS - 30_000}",
    ])  # fmt: skip
    clock_flags = sorted(line.split(" ")[2] for line in batch.lines if line.startswith("quality") and "clock" in line)
    assert clock_flags == [str(NOW_MS - 30_000), str(NOW_MS)]  # relative times are the receiver's clock


def test_senml_errors_reject_the_record_or_the_pack_with_a_reason() -> None:
    records = [
        {"n": "ph", "v": 7.2},
        {"n": "pm25", "u": "Cel", "v": 20},  # unconvertible unit
        {"n": "radiation", "v": 1},  # not a quantity
        {"n": "ph", "vs": "seven"},  # not a number
        {"n": "ph", "v": 99},  # hard limit, found by the same vectorized checks as native readings
    ]
    batch = prepare(message(records, topic="village/v1/d1/senml"))
    assert sorted((r.position, r.reason) for r in batch.rejections if r.position is not None) == [
        (1, RejectReason.UNIT_UNCONVERTIBLE),
        (2, RejectReason.UNKNOWN_QUANTITY),
        (3, RejectReason.NOT_A_NUMBER),
    ]
    # ph 99 is a second ph at the same time: a new sample, so it meets the same checks as native readings
    assert [(r.quantity, r.reason) for r in batch.rejections if r.position is None] == [("ph", RejectReason.HARD_LIMIT)]
    assert batch.stored == 1
    for pack, reason in (
        ([{"n": "ph", "v": 7, "bver": 11}], RejectReason.INVALID_SENML),  # newer version than we understand
        ([{"n": "ph", "v": 7, "x_": 1}], RejectReason.INVALID_SENML),  # must-understand field
        ({"n": "ph", "v": 7}, RejectReason.INVALID_SENML),  # not a pack
        (b"[{", RejectReason.MALFORMED_JSON),
    ):
        assert reasons(prepare(message(pack, topic="village/v1/d1/senml"))) == [(0, None, reason)]


def test_status_changes_are_stored_once_and_retained_repeats_are_skipped() -> None:
    preparer = BatchPreparer()
    preparer.seed_status("v1", "d2", online=True)  # stored before this process started
    status = "village/v1/{}/status"

    def retained(device: str, payload: bytes, received_ms: int) -> InboundMessage:
        return InboundMessage(status.format(device), payload, 1, True, 1, received_ms, 1)

    first = preparer.prepare([
        message(b"online", topic=status.format("d1")),
        retained("d2", b"ONLINE", NOW_MS),  # what the broker hands a new subscription: already stored
        retained("d3", b'{"state": "offline", "reason": "lwt"}', NOW_MS),
        message(b"sleeping", topic=status.format("d4")),
    ])  # fmt: skip
    assert sorted(first.lines) == [
        f"status,device=d1,village=v1 online=1.0 {NOW_MS}",
        f"status,device=d3,village=v1 online=0.0 {NOW_MS}",
    ]
    assert first.statuses_repeated == 1
    assert reasons(first) == [(3, None, RejectReason.INVALID_PAYLOAD)]
    again = preparer.prepare([retained("d3", b"offline", NOW_MS + 5000), retained("d1", b"offline", NOW_MS + 5000)])
    assert again.lines == [f"status,device=d1,village=v1 online=0.0 {NOW_MS + 5000}"]


def test_a_wake_and_sleep_in_one_millisecond_keeps_both_status_events_in_order() -> None:
    preparer = BatchPreparer()
    topic = "village/v1/d1/status"
    batch = preparer.prepare([
        InboundMessage(topic, b"online", 1, True, 1, NOW_MS, 1),  # a deep-sleep board: wake, upload, sleep
        InboundMessage(topic, b"offline", 1, True, 2, NOW_MS, 1),
    ])  # fmt: skip
    assert batch.lines == [
        f"status,device=d1,village=v1 online=1.0 {NOW_MS}",
        f"status,device=d1,village=v1 online=0.0 {NOW_MS + 1}",
    ]
    later = preparer.prepare([InboundMessage(topic, b"online", 1, True, 3, NOW_MS, 1)])  # the next batch, same ms
    assert later.lines == [f"status,device=d1,village=v1 online=1.0 {NOW_MS + 2}"]


def test_an_empty_status_deletes_a_retained_status_and_is_neither_stored_nor_rejected() -> None:
    cleared = BatchPreparer().prepare([
        InboundMessage("village/v1/d1/status", b"", 1, False, 1, NOW_MS, 1),  # relayed deletion, live
        InboundMessage("village/v1/d2/status", b"", 1, True, 2, NOW_MS, 1),
        message(b"  ", topic="village/v1/d3/status"),  # whitespace is not a deletion: a broken status
    ])  # fmt: skip
    assert cleared.lines == []
    assert cleared.statuses_cleared == 2
    assert reasons(cleared) == [(2, None, RejectReason.INVALID_PAYLOAD)]


def test_spikes_and_stuck_sensors_are_flagged_across_batches() -> None:
    preparer = BatchPreparer()

    def sample(i: int, ph: float, temp: float) -> InboundMessage:
        return message({"ts": NOW_MS - 600_000 + i * 60_000, "readings": {"ph": ph, "water_temp": temp}})

    first = preparer.prepare([sample(i, 7.0 + i / 100, 28.0) for i in range(6)])
    second = preparer.prepare([sample(6, 11.5, 28.0), *(sample(i, 7.0 + i / 100, 28.0) for i in range(7, 10))])
    flags = [line for batch in (first, second) for line in batch.lines if line.startswith("quality")]
    spikes = sorted(line.rsplit(" ", 1)[1] for line in flags if "quantity=ph" in line and "spike" in line)
    assert spikes == [str(NOW_MS - 600_000 + 6 * 60_000), str(NOW_MS - 600_000 + 7 * 60_000)]  # jump and return
    stuck = sorted(line.rsplit(" ", 1)[1] for line in flags if "quantity=water_temp" in line and "stuck" in line)
    assert stuck == [str(NOW_MS - 600_000 + 9 * 60_000)]  # the 10th identical value in a row
    assert second.flags == {"soft_limit": 1, "spike": 2, "stuck": 1}  # pH 11.5 is also beyond the soft limit


def test_seq_gaps_become_link_points_at_the_receive_time() -> None:
    preparer = BatchPreparer()
    preparer.prepare([message({"ts": NOW_MS, "seq": 1, "readings": {"ph": 7.0}})])
    batch = preparer.prepare(
        [message({"ts": NOW_MS + 1000, "seq": 4, "readings": {"ph": 7.0}}, received_ms=NOW_MS + 1100)]
    )
    assert f"link,device=d1,village=v1 seq=4.0,lost=2.0,duplicated=0.0,reboot=0.0 {NOW_MS + 1100}" in batch.lines
    assert batch.link.lost == 2


def test_a_reading_sent_twice_in_one_object_is_refused_not_silently_halved() -> None:
    """Issue 9 (hostile corpus): the fast path and the contract's decoder kept the last of two values."""
    fast = message(b'{"ts": %d, "readings": {"ph": 7.1, "ph": 8.4}}' % NOW_MS)
    escaped = message(b'{"ts": %d, "readings": {"ph": 7.1, "p\\u0068": 8.4}}' % NOW_MS, topic="village/v1/d2/telemetry")
    batch = prepare(fast, escaped)
    assert reasons(batch) == [(0, None, RejectReason.INVALID_PAYLOAD), (1, None, RejectReason.INVALID_PAYLOAD)]
    assert batch.lines == []


def test_battery_sent_in_readings_and_beside_them_is_one_reading_twice() -> None:
    """Issue 9 (hostile corpus): `bat` beside `readings` silently replaced the `bat` inside them."""
    same = message({"ts": NOW_MS, "bat": 3.9, "readings": {"ph": 7.1, "bat": 3.9}})
    other = message({"ts": NOW_MS, "bat": 4.0, "readings": {"ph": 7.1, "bat": 3.9}}, topic="village/v1/d2/telemetry")
    batch = prepare(same, other)
    assert reasons(batch) == [(1, "bat", RejectReason.DUPLICATE_CONFLICT)]
    assert batch.collapsed == 1
    assert sorted(batch.lines) == sorted([
        f"device,device=d1,village=v1 bat=3.9 {NOW_MS}",
        f"device,device=d2,village=v1 bat=3.9 {NOW_MS}",
        f"water,device=d1,village=v1 ph=7.1 {NOW_MS}",
        f"water,device=d2,village=v1 ph=7.1 {NOW_MS}",
    ])  # fmt: skip


def test_clockless_arrays_flushed_back_to_back_never_share_a_millisecond_across_batches() -> None:
    """Issue 9: a board without a clock flushing its buffer as two arrays, with a batch boundary between them, had
    98 of the first array's 100 stand-in times given again to the second: InfluxDB kept only the second values."""
    preparer = BatchPreparer()

    def upload(first: int, received_ms: int) -> set[int]:
        array = [{"readings": {"ph": round(6 + (first + i) / 1000, 3)}} for i in range(100)]
        batch = preparer.prepare([message(array, received_ms=received_ms)])
        return {int(line.rsplit(" ", 1)[1]) for line in batch.lines if line.startswith("water")}

    first, second = upload(0, NOW_MS), upload(100, NOW_MS + 2)
    assert len(first) == len(second) == 100
    assert not first & second
    assert max(first) < min(second)  # still in the order the board took them


def test_a_stuck_device_clock_is_refused_against_the_last_reading_not_silently_overwritten() -> None:
    """Issue 9 ("when clocks are wrong"): firmware that sends the same `ts` every time had each new value replace the
    stored one in InfluxDB, one batch after the other, and only the last survived. Within a batch the second value
    was already refused (duplicate_conflict); now also against the sensor's last accepted reading."""
    preparer = BatchPreparer()
    stuck = [preparer.prepare([message({"ts": NOW_MS - 5000, "readings": {"ph": 7.0 + i / 10}})]) for i in range(3)]
    again = preparer.prepare([message({"ts": NOW_MS - 5000, "readings": {"ph": 7.0}})])  # a resend: same value
    assert stuck[0].lines == [f"water,device=d1,village=v1 ph=7.0 {NOW_MS - 5000}"]
    assert [reasons(b) for b in stuck[1:]] == [[(0, "ph", RejectReason.DUPLICATE_CONFLICT)]] * 2
    assert (reasons(again), again.lines) == ([], stuck[0].lines)
