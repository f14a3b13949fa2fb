"""The board behaves like ESP32 firmware: buffering, store-and-forward, seq, brown-out, clocks, faults."""

from __future__ import annotations

import itertools
import math

import numpy as np
import orjson

from devices.payload import decode_telemetry
from devices.registry import RegisteredDevice
from devices.timestamps import CREDIBLE_FROM_MS
from simulators.board import ActionKind, Board
from simulators.faults import FaultRates
from simulators.scenario import GroupSpec
from simulators.weather import VillageWeather

START_MS = int(np.datetime64("2025-07-01T00:00:00", "ms").astype(np.int64))


def board(spec: GroupSpec, faults: FaultRates | None = None, *, seed: int = 1, **options) -> Board:
    device = RegisteredDevice(id=f"v-{spec.kind}-01", village="v", kind=spec.kind, name="test", lat=11.1, lon=106.5)
    w = VillageWeather(seed=seed, index=0, lat=11.1, lon=106.5)
    return Board(device, spec, faults or FaultRates(), seed=seed, index=0, weather=w, start_ms=START_MS, **options)


def run(b: Board, steps: int) -> list:
    return [action for _ in range(steps) for action in b.step()]


def telemetry(actions: list) -> list:
    return [a for a in actions if a.kind is ActionKind.PUBLISH and a.topic.endswith("/telemetry")]


def test_an_online_board_connects_with_a_birth_then_publishes_each_sample_once() -> None:
    b = board(GroupSpec(kind="water", interval_s=60, jitter=0.1))
    actions = run(b, 10)
    assert [a.kind for a in actions[:2]] == [ActionKind.CONNECT, ActionKind.PUBLISH]
    assert (actions[1].topic, actions[1].payload, actions[1].retain) == ("village/v/v-water-01/status", b"online", True)
    samples = [orjson.loads(a.payload) for a in telemetry(actions)]
    assert [s["seq"] for s in samples] == list(range(10))
    gaps = np.diff([s["ts"] for s in samples])
    assert (gaps >= 54_000).all() and (gaps <= 66_000).all() and len(set(gaps)) > 1  # period with jitter
    assert all({"ph", "do", "turbidity", "ec", "water_level", "water_temp"} == set(s["readings"]) for s in samples)
    assert b.will == ("village/v/v-water-01/status", b"offline")


def test_deep_sleep_buffers_and_uploads_arrays_with_the_sampling_times() -> None:
    b = board(GroupSpec(kind="agri", interval_s=600, jitter=0, mode="deep_sleep", upload_every=4))
    actions = run(b, 12)
    uploads = telemetry(actions)
    assert len(uploads) == 3
    first = b.next_ms - 12 * 600_000
    for n, upload in enumerate(uploads):
        objects = orjson.loads(upload.payload)
        assert isinstance(objects, list) and len(objects) == 4
        assert [o["ts"] for o in objects] == [first + (4 * n + i) * 600_000 for i in range(4)]
        assert upload.at_ms == objects[-1]["ts"]  # uploaded on the wake of the last sample
    kinds = [a.kind for a in actions]
    assert kinds.count(ActionKind.CONNECT) == 3 and kinds.count(ActionKind.DISCONNECT) == 3
    statuses = [a.payload for a in actions if a.topic.endswith("/status")]
    assert statuses == [b"online", b"offline"] * 3  # ESPHome: retained offline before sleeping


def test_a_wifi_outage_drops_the_link_buffers_and_flushes_an_array_on_reconnect() -> None:
    spec = GroupSpec(kind="air", interval_s=60, jitter=0, outages_per_day=1440, outage_minutes=(5, 5))
    b = board(spec)
    actions = run(b, 40)
    drops = [a for a in actions if a.kind is ActionKind.DROP]
    assert drops and drops[0].reason == "wifi_outage"
    arrays = [orjson.loads(a.payload) for a in telemetry(actions) if a.payload.startswith(b"[")]
    assert arrays and all(len(a) >= 4 for a in arrays)
    seqs = [s["seq"] for a in telemetry(actions) for s in _objects(a.payload)]
    assert sorted(seqs) == list(range(len(seqs)))  # nothing lost, nothing twice


def test_a_brown_out_loses_ram_and_restarts_seq_when_the_sun_recharges_the_cell() -> None:
    spec = GroupSpec(kind="agri", interval_s=600, supply="solar", capacity_mah=20, panel_ma=300)
    b = board(spec)
    b.battery.soc = 0.2
    actions = run(b, 24 * 6 * 3)  # three days of 10-minute samples
    reasons = [a.reason for a in actions if a.kind is ActionKind.DROP]
    assert "brownout" in reasons
    seqs = [orjson.loads(a.payload)["seq"] for a in telemetry(actions)]
    assert any(later < earlier for earlier, later in itertools.pairwise(seqs))  # seq restarted
    records = [f for a in telemetry(actions) for f in a.faults if f["kind"] == "brownout"]
    assert records
    volts = [orjson.loads(a.payload)["bat"] for a in telemetry(actions)]
    assert min(volts) >= 3.1 and max(volts) <= 4.2


def test_clocks_without_ntp_send_no_time_or_1970() -> None:
    none = _objects(telemetry(run(board(GroupSpec(kind="water", clock="none")), 3))[0].payload)[0]
    assert "ts" not in none
    since_boot = _objects(telemetry(run(board(GroupSpec(kind="water", clock="epoch1970")), 3))[0].payload)[0]
    assert 0 <= since_boot["ts"] < CREDIBLE_FROM_MS


def test_injected_faults_are_recorded_with_quantity_original_and_injected_value() -> None:
    rates = FaultRates(nan=0.05, out_of_range=0.05, spike=0.05, malformed_json=0.1, duplicate=0.1)
    actions = telemetry(run(board(GroupSpec(kind="water", interval_s=60), rates), 200))
    kinds = {f["kind"] for a in actions for f in a.faults}
    assert {"nan", "out_of_range", "spike", "malformed_json", "duplicate"} <= kinds
    for action in actions:
        kinds_here = [f["kind"] for f in action.faults]
        if "malformed_json" in kinds_here:
            assert not _valid_json(action.payload)
            continue
        sample = orjson.loads(action.payload.replace(b"NaN", b"null"))
        for fault in action.faults:
            if fault["kind"] == "nan":
                assert sample["readings"][fault["quantity"]] is None  # NaN on the wire
            elif fault["kind"] in ("out_of_range", "spike"):
                assert sample["readings"][fault["quantity"]] == fault["injected"] != fault["original"]
    nan_payload = next(a.payload for a in actions if any(f["kind"] == "nan" for f in a.faults))
    (decoded,) = decode_telemetry(nan_payload)  # the ingestor's codec reads the NaN token as a float NaN
    assert any(isinstance(v, float) and math.isnan(v) for v in decoded.readings.values())


def test_same_seed_same_messages() -> None:
    spec = GroupSpec(kind="agri", interval_s=300, outages_per_day=20)
    rates = FaultRates(nan=0.02, dropout=0.02, duplicate=0.02)
    first = [(a.kind, a.at_ms, a.payload) for a in run(board(spec, rates, seed=3), 300)]
    again = [(a.kind, a.at_ms, a.payload) for a in run(board(spec, rates, seed=3), 300)]
    other = [(a.kind, a.at_ms, a.payload) for a in run(board(spec, rates, seed=4), 300)]
    assert first == again
    assert first != other


def test_backfill_batches_give_the_same_samples_as_real_time() -> None:
    spec = GroupSpec(kind="water", interval_s=60)
    live = [s for a in telemetry(run(board(spec), 200)) for s in _objects(a.payload)]
    batched_board = board(spec, live_links=False, batch_objects=64)
    batched = [s for a in telemetry(run(batched_board, 200)) for s in _objects(a.payload)]
    assert batched == live[: len(batched)] and len(batched) == 192


def _objects(payload: bytes) -> list[dict]:
    decoded = orjson.loads(payload)
    return decoded if isinstance(decoded, list) else [decoded]


def _valid_json(payload: bytes) -> bool:
    try:
        orjson.loads(payload)
    except orjson.JSONDecodeError:
        return False
    return True
