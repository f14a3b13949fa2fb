"""A scenario full of faults through real mosquitto → ingestor → InfluxDB: stored and rejected = predicted.

The prediction is computed from the simulator's ground-truth log alone (simulators/prediction.py), for the
channels the ingestor consumes (INGESTED_CHANNELS). Messages on other channels must leave no trace.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from pathlib import Path

import pytest

from devices.reasons import RejectReason
from devices.schema import DATA_MEASUREMENTS
from simulators.prediction import predict
from simulators.truth import published, read_truth
from tests.helpers import eventually, influx_rows, village_process

pytestmark = pytest.mark.e2e

INGESTED_CHANNELS = ("telemetry", "senml", "status")
"""What the ingestor consumes: with the ingest engine (issue 3) this test checks SenML packs (with wrong units)
and the last status of every board as well."""

_REASON = re.compile(r"\b(" + "|".join(r.value for r in RejectReason) + r") \(")
_LOGGED = re.compile(r"rejected from '([^']*)': (.*?)(?: \(\+(\d+) more\))?$")


def fault_scenario(village: str) -> str:
    return f"""
name = "e2e-faults"
seed = 11
villages = ["{village}"]

[[village]]
id = "{village}"
name = "Làng thử"
lat = 11.1
lon = 106.54

[faults]
spike = 0.02
stuck = 0.02
dropout = 0.03
nan = 0.01
out_of_range = 0.01
malformed_json = 0.04
duplicate = 0.06
out_of_order = 0.5
clock_skew = 0.5
clock_skew_s = [-7200, -1800]

[[group]]
kind = "water"
count = 2
interval_s = 120
[[group]]
kind = "air"
count = 1
interval_s = 120
[[group]]
kind = "agri"
count = 1
interval_s = 300
mode = "deep_sleep"
upload_every = 4
[[group]]
kind = "agri"
count = 1
interval_s = 300
clock = "none"
[[group]]
kind = "air"
count = 1
interval_s = 120
format = "senml"
[group.faults]
wrong_unit = 0.05
spike = 0.02
dropout = 0.03
duplicate = 0.06
out_of_order = 0.5
"""


def logged_rejections(text: str) -> tuple[Counter[str], int]:
    """Reasons visible in the ingestor's WARNING lines (first five per message) and the hidden remainder."""
    visible: Counter[str] = Counter()
    hidden = 0
    for line in text.splitlines():
        match = _LOGGED.search(line)
        if match is None or match.group(1).rsplit("/", 1)[-1] not in INGESTED_CHANNELS:
            continue
        visible.update(_REASON.findall(match.group(2)))
        hidden += int(match.group(3) or 0)
    return visible, hidden


def test_faulty_fleet_outcome_equals_the_ground_truth_prediction(
    ingestor, village_id, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="ingest")
    scenario = tmp_path / "faults.toml"
    scenario.write_text(fault_scenario(village_id), encoding="utf-8")
    truth_path = tmp_path / "truth.jsonl"
    env = {"VILLAGE_MQTT_URL": ingestor.settings.mqtt_url}
    runs = (  # history as store-and-forward arrays, then live messages one by one
        ("--backfill", "6h", "--end", "2025-06-01T00:00:00Z", "--batch", "5"),
        ("--interval", "0.02", "--count", "25"),
    )
    for number, run in enumerate(runs):
        simulate = village_process(
            f"simulate-{number}", "simulate", "--scenario", str(scenario), "--truth", str(truth_path),
            "--no-progress", *run, env=env, log_dir=tmp_path,
        )  # fmt: skip
        eventually(lambda s=simulate: not s.alive(), timeout_s=60, what=f"simulator run {number} finished")
        assert simulate.popen.returncode == 0, simulate.log_tail()

    entries = read_truth(truth_path)
    kinds = Counter(f["kind"] for e in entries for f in e["faults"])
    for fault in ("nan", "out_of_range", "malformed_json", "duplicate", "dropout", "spike", "out_of_order"):
        assert kinds[fault] > 0, f"the scenario injected no {fault}: {kinds}"
    prediction = predict(entries, channels=INGESTED_CHANNELS)
    assert not prediction.ambiguous
    ingested = sum(len(published(entries, channel=channel)) for channel in INGESTED_CHANNELS)
    service = ingestor.service
    eventually(
        lambda: service.counters.messages >= ingested,
        timeout_s=30,
        what=f"every message ingested ({ingested})",
    )
    counters = service.counters

    db, influx_url = ingestor.settings.influx_db, ingestor.settings.influx_url
    stored: dict[tuple[str, str, int], float] = {}
    by_receive_time: Counter[tuple[str, str]] = Counter()
    for measurement in DATA_MEASUREMENTS:
        for row in influx_rows(influx_url, db, f'SELECT * FROM "{measurement.name}"'):
            for quantity in measurement.fields:
                value = row.get(quantity)
                if value is None:
                    continue
                key = (str(row["device"]), quantity, int(row["time"]))
                if key in prediction.points:
                    stored[key] = float(value)
                else:
                    by_receive_time[(key[0], quantity)] += 1
    assert stored == prediction.points
    assert by_receive_time == prediction.receive_time
    assert counters.rejected == len(prediction.rejections)
    visible, hidden = logged_rejections(caplog.text)
    expected_visible: Counter[str] = Counter()
    expected_hidden = 0
    for topic_rejections in _per_message(prediction):
        expected_visible.update(r.reason.value for r in topic_rejections[:5])
        expected_hidden += max(0, len(topic_rejections) - 5)
    assert visible == expected_visible
    assert hidden == expected_hidden
    assert prediction.rejected_by_reason().keys() >= {"non_finite", "hard_limit", "malformed_json"}
    if "status" in INGESTED_CHANNELS:
        rows = influx_rows(influx_url, db, 'SELECT "online", "device" FROM "status"')  # in time order
        assert {str(row["device"]): row["online"] == 1.0 for row in rows} == prediction.final_status


def _per_message(prediction):
    """Rejections grouped per published message, as the ingestor logs them."""
    groups: list[list] = []
    message = -1
    for rejection in prediction.rejections:
        if rejection.message != message:
            groups.append([])
            message = rejection.message
        groups[-1].append(rejection)
    return groups
