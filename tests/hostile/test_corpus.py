"""Every case of the hostile corpus through the ingestor's decoder and validator: the promised outcome, and only
lines the schema allows. Where the prediction of simulators/ can judge a case, it must agree."""

from __future__ import annotations

import time
from collections import Counter

import pytest

from devices.registry import format_registry
from devices.schema import DATA_MEASUREMENTS
from devices.topics import Topic
from ingest.messages import InboundMessage
from ingest.prepare import BatchPreparer, PreparedBatch
from ingest.registry import DeviceRegistry
from simulators.prediction import predict
from tests.hostile.corpus import Case, load_cases, registry
from tests.hostile.lines import checked_point

VILLAGE, OTHER = "hv", "ho"
CASES = load_cases(VILLAGE, OTHER)
DATA = {m.name for m in DATA_MEASUREMENTS}
RECEIVE_WINDOW_MS = 2_000
"""Receive-time stand-ins lie within this of the receive time (arrays step back one millisecond per sample)."""


@pytest.fixture(scope="module")
def preparer(tmp_path_factory: pytest.TempPathFactory) -> BatchPreparer:
    path = tmp_path_factory.mktemp("hostile") / "registry.toml"
    path.write_text(format_registry(registry(VILLAGE, OTHER, CASES)), encoding="utf-8")
    return BatchPreparer(registry=DeviceRegistry(path, policy="reject"))


def stored_readings(batch: PreparedBatch, *, received_ms: int, at: str) -> dict[str, list[float]]:
    """Readings in the batch's data lines (every line checked against the schema), and where they sit in time."""
    found: dict[str, list[float]] = {}
    for line in batch.lines:
        point = checked_point(line)
        if point.measurement not in DATA:
            continue
        if at == "receive":
            assert abs(point.ts_ms - received_ms) <= RECEIVE_WINDOW_MS, line
        else:
            assert point.ts_ms < received_ms - 60_000, f"stored at the receive time, not the device's: {line}"
        for quantity, value in point.fields.items():
            found.setdefault(quantity, []).append(value)
    return {q: sorted(v) for q, v in found.items()}


def test_the_corpus_covers_what_issue_9_lists() -> None:
    names = " ".join(c.name for c in CASES)
    for topic in ("deep", "ten-mib", "cyrillic", "inject-", "nan", "integer-2-63", "ts-seconds", "ts-1970", "repeated"):
        assert topic in names
    injected = {c.name.split("-", 2)[1] for c in CASES if c.name.startswith("inject-")}
    assert injected >= {"device", "village", "reading", "ts", "seq", "unknown", "bat", "senml", "status"}


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_the_decoder_keeps_the_corpus_promise(case: Case, preparer: BatchPreparer) -> None:
    received_ms = time.time_ns() // 1_000_000
    batch = preparer.prepare([InboundMessage(case.topic, case.payload, 1, False, 1, received_ms, 1)])
    reasons = sorted(r.reason.value for r in batch.rejections)
    if not case.reaches_ingestor:  # should a broker let it through, the topic is refused
        assert (reasons, batch.lines) == (["invalid_topic"], [])
        return
    assert reasons == list(case.expect)
    assert all(r.detail for r in batch.rejections)
    assert stored_readings(batch, received_ms=received_ms, at=case.at) == {q: sorted(v) for q, v in case.stored.items()}


def judged_by_prediction(case: Case) -> bool:
    """Cases the prediction can judge: the ground-truth log holds UTF-8 text on contract topics, and the prediction
    does not know the registry (those cases are the decoder's alone, above)."""
    try:
        Topic.parse(case.topic)
        case.payload.decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return False
    return case.reaches_ingestor and not set(case.expect) & {"unknown_device", "village_mismatch"}


@pytest.mark.parametrize("case", [c for c in CASES if judged_by_prediction(c)], ids=lambda c: c.name)
def test_the_prediction_agrees_where_it_can_judge(case: Case) -> None:
    received_ms = time.time_ns() // 1_000_000
    prediction = predict([{"topic": case.topic, "payload": case.payload.decode(), "sent_ms": received_ms}])
    if prediction.ambiguous:  # two values for one point: the ingestor keeps the first, the prediction cannot say
        assert "duplicate_conflict" in case.expect, prediction.ambiguous
        return
    assert sorted(prediction.rejected_by_reason().elements()) == list(case.expect)
    values: Counter[str] = Counter()
    for _device, quantity, _ts in prediction.points:
        values[quantity] += 1
    for (_device, quantity), count in prediction.receive_time.items():
        values[quantity] += count
    assert dict(values) == {q: len(v) for q, v in case.stored.items()}
