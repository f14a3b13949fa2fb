"""Property-based hostile input for the decoder and validator (BatchPreparer), with the lines sent to InfluxDB.

For any payload and topic: no exception; every message ends stored, collapsed or rejected with a reason; every
line is one the schema allows (parsed strictly) and InfluxDB takes it whole (204, no partial write); and where
the ground-truth prediction can judge the batch (simulators/prediction.py, written apart from the ingestor's fast
path), the ingestor stores and rejects exactly what it predicts.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator

import httpx
import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from devices.influxql import query_form
from ingest.messages import InboundMessage
from ingest.prepare import BatchPreparer, PreparedBatch
from simulators.prediction import predict
from tests.helpers import unique_id
from tests.hostile import strategies as hostile
from tests.hostile.lines import Point, checked_point
from village.services import Database

NOW_MS = hostile.NOW_MS
EXAMPLES = int(os.environ.get("VILLAGE_FUZZ_EXAMPLES", "250"))
"""Per property; CI runs 250, a long run by hand e.g. VILLAGE_FUZZ_EXAMPLES=20000."""
DATA = ("water", "air", "agri", "device")
STAND_IN_WINDOW_MS = 10_000  # more than the readings of a few arrays, one millisecond apart
fuzz = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module")
def database(influxdb: Database) -> Iterator[tuple[str, str]]:
    name = unique_id("hostile").replace("-", "_")
    httpx.post(
        f"{influxdb.url}/query", data=query_form(f'CREATE DATABASE "{name}"', database=name), timeout=10
    ).raise_for_status()
    yield influxdb.url, name
    httpx.post(f"{influxdb.url}/query", data=query_form(f'DROP DATABASE "{name}"', database=name), timeout=10)


def prepared(messages: list[tuple[str, bytes]]) -> PreparedBatch:
    note(f"messages: {messages!r}")
    inbound = [InboundMessage(topic, payload, 1, False, i, NOW_MS, 1) for i, (topic, payload) in enumerate(messages)]
    return BatchPreparer().prepare(inbound)


def written(batch: PreparedBatch, database: tuple[str, str]) -> list[Point]:
    """Every line checked against the schema, then written to InfluxDB, which must take all of them."""
    points = [checked_point(line) for line in batch.lines]
    if batch.lines:
        url, name = database
        body = ("\n".join(batch.lines) + "\n").encode()
        response = httpx.post(f"{url}/write", params={"db": name, "precision": "ms"}, content=body, timeout=10)
        assert response.status_code == 204, response.text
    return points


def accounted(batch: PreparedBatch, count: int) -> None:
    """Each message is stored (a line comes from it), collapsed into another's points, or rejected with a reason."""
    rejected = {r.message for r in batch.rejections}
    assert all(r.detail and r.reason for r in batch.rejections)
    silent = set(range(count)) - set(batch.origins) - rejected
    assert not silent or batch.collapsed or batch.statuses_repeated or batch.statuses_cleared, (
        f"messages {silent} left no trace"
    )


def nothing_stored_from_repeats(batch: PreparedBatch, repeats: list[bool]) -> None:
    """A message whose every object repeats a name stores nothing (a parser would keep one value and drop the
    other silently) and says why."""
    for index, repeated in enumerate(repeats):
        if repeated:
            assert index not in batch.origins, f"message {index} repeats names, yet it stored a line"
            assert any(r.message == index for r in batch.rejections)


def agrees_with_prediction(batch: PreparedBatch, messages: list[tuple[str, bytes]], points: list[Point]) -> None:
    entries = [{"topic": t, "payload": p.decode(), "sent_ms": NOW_MS} for t, p in messages]
    prediction = predict(entries)
    reasons = Counter(r.reason.value for r in batch.rejections)
    if prediction.ambiguous:
        return  # e.g. two messages give one point two values: which arrives first is not the prediction's to say
    assert reasons == prediction.rejected_by_reason()
    timed, by_receive_time = {}, Counter()
    for point in (p for p in points if p.measurement in DATA):
        for quantity, value in point.fields.items():
            key = (point.tags["device"], quantity, point.ts_ms)
            if key in prediction.points:
                timed[key] = value
            else:
                by_receive_time[key[:2]] += 1
    assert timed == prediction.points
    # A stand-in receive time (the last milliseconds before receipt) can be the very time another message gives
    # the same reading; the two are then one point, which the count by receive time cannot tell apart.
    shared = {key[:2] for key in prediction.points if NOW_MS - STAND_IN_WINDOW_MS <= key[2] <= NOW_MS}
    assert _without(by_receive_time, shared) == _without(prediction.receive_time, shared)


def _without(counts: Counter[tuple[str, str]], keys: set[tuple[str, str]]) -> Counter[tuple[str, str]]:
    return Counter({key: count for key, count in counts.items() if key not in keys})


@fuzz
@given(
    payloads=st.lists(st.tuples(st.integers(0, 1), hostile.json_text(hostile.native_values)), min_size=1, max_size=4)
)
def test_native_payloads(payloads: list[tuple[int, tuple[bytes, bool]]], database: tuple[str, str]) -> None:
    messages = [(f"village/v1/d{device}/telemetry", text) for device, (text, _) in payloads]
    batch = prepared(messages)
    points = written(batch, database)
    accounted(batch, len(messages))
    nothing_stored_from_repeats(batch, [repeated for _, (_, repeated) in payloads])
    agrees_with_prediction(batch, messages, points)


@fuzz
@given(packs=st.lists(st.tuples(st.integers(0, 1), hostile.json_text(hostile.senml_values)), min_size=1, max_size=4))
def test_senml_packs(packs: list[tuple[int, tuple[bytes, bool]]], database: tuple[str, str]) -> None:
    messages = [(f"village/v1/s{device}/senml", text) for device, (text, _) in packs]
    batch = prepared(messages)
    points = written(batch, database)
    accounted(batch, len(messages))
    nothing_stored_from_repeats(batch, [repeated for _, (_, repeated) in packs])
    agrees_with_prediction(batch, messages, points)


@fuzz
@given(payload=hostile.status_payloads, retained=st.booleans())
def test_status_payloads(payload: bytes, retained: bool, database: tuple[str, str]) -> None:
    message = InboundMessage("village/v1/d1/status", payload, 1, retained, 1, NOW_MS, 1)
    batch = BatchPreparer().prepare([message])
    points = written(batch, database)
    assert [p.measurement for p in points] in (["status"], [])
    # Exactly one outcome: stored, rejected with a reason, or (empty payload) the retained status deleted.
    assert bool(points) + bool(batch.rejections) + batch.statuses_cleared == 1
    assert batch.statuses_cleared == (payload == b"")


@fuzz
@given(topic=hostile.topics, payload=hostile.json_text(hostile.native_values, repeats=False))
def test_topics(topic: str, payload: tuple[bytes, bool], database: tuple[str, str]) -> None:
    batch = prepared([(topic, payload[0])])
    points = written(batch, database)
    accounted(batch, 1)
    for point in points:  # whatever was stored names exactly the topic's own ids
        assert topic.split("/")[1:3] == [point.tags["village"], point.tags["device"]]


@fuzz
@given(channel=st.sampled_from(["telemetry", "senml", "status"]), payload=st.binary(max_size=300))
def test_any_bytes_on_any_channel(channel: str, payload: bytes, database: tuple[str, str]) -> None:
    batch = prepared([(f"village/v1/d1/{channel}", payload)])
    written(batch, database)
    accounted(batch, 1)
