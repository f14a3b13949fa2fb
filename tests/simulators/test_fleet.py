"""The fleet against a real mosquitto: the ground truth is what a subscriber receives, last wills, arrays."""

from __future__ import annotations

import itertools
import os
import signal
import threading
from collections import Counter
from pathlib import Path

import orjson

from devices.config import MqttEndpoint
from devices.registry import Village, parse_registry
from simulators.faults import FaultRates
from simulators.fleet import FleetRunner, RunLimits, build_boards
from simulators.pacing import Pacer, epoch_ms
from simulators.radio import Radio
from simulators.scenario import GroupSpec, Scenario
from simulators.truth import TruthLog, read_truth
from tests.helpers import eventually, mqtt_subscriber, village_process
from village.services import start_mosquitto


def scenario(village: str, *groups: GroupSpec, faults: FaultRates | None = None, seed: int = 3) -> Scenario:
    return Scenario(
        name="test",
        seed=seed,
        villages=(village,),
        village=(Village(id=village, name="Làng thử", lat=11.1, lon=106.54),),
        faults=faults or FaultRates(),
        group=groups,
    )


def run_fleet(broker_url: str, chosen: Scenario, truth_path: Path, limits: RunLimits, **build) -> FleetRunner:
    start_ms = epoch_ms()
    boards = build_boards(chosen, start_ms=start_ms, **build)
    radio = Radio(MqttEndpoint.parse(broker_url))
    with TruthLog(truth_path) as truth:
        runner = FleetRunner(boards, radio, truth, Pacer(start_sim_ms=start_ms, speed=1.0))
        runner.run(threading.Event(), limits)
    radio.close()
    return runner


def test_ground_truth_is_exactly_what_a_subscriber_receives(broker, village_id, tmp_path: Path) -> None:
    chosen = scenario(
        village_id,
        GroupSpec(kind="water", count=2, interval_s=0.05, outages_per_day=86_400 * 2, outage_minutes=(0.003, 0.005)),
        GroupSpec(kind="agri", interval_s=0.05, mode="deep_sleep", upload_every=3),
        GroupSpec(kind="air", interval_s=0.05, format="senml"),
        faults=FaultRates(nan=0.05, malformed_json=0.05, duplicate=0.1, dropout=0.05, wrong_unit=0.05),
    )
    truth_path = tmp_path / "truth.jsonl"
    with mqtt_subscriber(broker.url, f"village/{village_id}/#") as received:
        run_fleet(broker.url, chosen, truth_path, RunLimits(samples_per_board=30))
        entries = read_truth(truth_path)
        expected = Counter((str(e["topic"]), str(e["payload"]).encode()) for e in entries)
        eventually(lambda: Counter(received.snapshot()) == expected, timeout_s=10, what="every message received")
    events = Counter((e["event"], e["format"]) for e in entries)
    assert events[("publish", "native")] and events[("publish", "senml")] and events[("will", "status")]
    assert {f["kind"] for e in entries for f in e["faults"]} >= {"nan", "malformed_json", "duplicate", "dropout"}


def test_store_and_forward_uploads_arrive_as_arrays_with_the_sampling_times(broker, village_id, tmp_path) -> None:
    chosen = scenario(village_id, GroupSpec(kind="agri", interval_s=0.1, jitter=0, mode="deep_sleep", upload_every=4))
    with mqtt_subscriber(broker.url, f"village/{village_id}/+/telemetry") as received:
        runner = run_fleet(broker.url, chosen, tmp_path / "t.jsonl", RunLimits(samples_per_board=12))
        eventually(lambda: len(received.snapshot()) == 3, timeout_s=10, what="three uploads")
    uploads = [orjson.loads(payload) for _, payload in received.snapshot()]
    times = [o["ts"] for upload in uploads for o in upload]
    assert all(isinstance(u, list) and len(u) == 4 for u in uploads)
    assert [o["seq"] for upload in uploads for o in upload] == list(range(12))
    assert all(later - earlier == 100 for earlier, later in itertools.pairwise(times))
    assert runner.published == 3 * 3  # per upload: online, array, offline (deep sleep)


def test_a_killed_board_leaves_its_last_will(broker, village_id, tmp_path: Path) -> None:
    chosen = scenario(village_id, GroupSpec(kind="water", count=2, interval_s=0.05))
    start_ms = epoch_ms()
    boards = build_boards(chosen, start_ms=start_ms)
    killed, alive = (f"village/{village_id}/{b.device.id}/status" for b in boards)
    radio = Radio(MqttEndpoint.parse(broker.url))
    with mqtt_subscriber(broker.url, f"village/{village_id}/+/status") as received, TruthLog(None) as truth:
        runner = FleetRunner(boards, radio, truth, Pacer(start_sim_ms=start_ms, speed=1.0))
        stop = threading.Event()
        thread = threading.Thread(target=runner.run, args=(stop, RunLimits()))
        thread.start()
        try:
            eventually(lambda: len(received.snapshot()) == 2, what="both boards online")
            runner.kill(0)
            eventually(lambda: (killed, b"offline") in received.snapshot(), what="the killed board's last will")
            assert (alive, b"offline") not in received.snapshot()
        finally:
            stop.set()
            thread.join(10)
        eventually(lambda: received.snapshot()[-1] == (alive, b"offline"), what="a clean offline at the end")
    radio.close()


def test_killing_the_simulator_process_publishes_every_boards_will(broker, village_id, tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_text(
        f'villages = ["{village_id}"]\n[[village]]\nid = "{village_id}"\nname = "X"\nlat = 11.1\nlon = 106.5\n'
        '[[group]]\nkind = "air"\ncount = 3\ninterval_s = 0.2\n',
        encoding="utf-8",
    )
    registry = tmp_path / "registry.toml"
    with mqtt_subscriber(broker.url, f"village/{village_id}/+/status") as received:
        simulate = village_process(
            "simulate", "simulate", "--scenario", str(path), "--registry", str(registry), "--no-progress",
            env={"VILLAGE_MQTT_URL": broker.url}, log_dir=tmp_path,
        )  # fmt: skip
        eventually(registry.exists, what=f"registry written\n{simulate.log_tail()}")
        devices = [d.id for d in parse_registry(eventually(registry.read_text, what="registry")).devices]
        topics = {f"village/{village_id}/{d}/status" for d in devices}
        eventually(lambda: {t for t, p in received.snapshot() if p == b"online"} == topics, what="all online")
        simulate.popen.send_signal(signal.SIGKILL)
        simulate.popen.wait(10)
        eventually(lambda: {t for t, p in received.snapshot() if p == b"offline"} == topics, what="every will")
    assert len(devices) == 3


def test_same_seed_same_messages_through_the_broker(broker, village_id, tmp_path: Path) -> None:
    chosen = scenario(
        village_id,
        GroupSpec(kind="water", interval_s=300),
        GroupSpec(kind="agri", interval_s=600, mode="deep_sleep"),
        faults=FaultRates(nan=0.02, spike=0.02, duplicate=0.02, malformed_json=0.02),
        seed=9,
    )
    end_ms = 1_748_736_000_000  # 2025-06-01T00:00:00Z

    def backfill(path: Path) -> list[tuple[str, str]]:
        boards = build_boards(chosen, start_ms=end_ms - 86_400_000, live_links=False, batch_objects=100)
        radio = Radio(MqttEndpoint.parse(broker.url))
        with TruthLog(path) as truth:
            runner = FleetRunner(boards, radio, truth, Pacer(start_sim_ms=end_ms - 86_400_000, speed=None))
            runner.run(threading.Event(), RunLimits(end_ms=end_ms))
        radio.close()
        return [(str(e["topic"]), str(e["payload"])) for e in read_truth(path)]

    first, again = backfill(tmp_path / "a.jsonl"), backfill(tmp_path / "b.jsonl")
    assert first == again and len(first) > 5
    timestamps = [o["ts"] for _, p in first if p.startswith("[") for o in orjson.loads(p.replace("NaN", "null"))]
    assert min(timestamps) >= end_ms - 86_400_000 and max(timestamps) <= end_ms


def test_boards_reconnect_with_a_new_birth_after_the_broker_restarts(broker, village_id, tmp_path: Path) -> None:
    chosen = scenario(village_id, GroupSpec(kind="water", count=2, interval_s=0.1))
    start_ms = epoch_ms()
    boards = build_boards(chosen, start_ms=start_ms)
    radio = Radio(MqttEndpoint.parse(broker.url))
    births = {(f"village/{village_id}/{b.device.id}/status", b"online") for b in boards}
    with mqtt_subscriber(broker.url, f"village/{village_id}/#") as received, TruthLog(None) as truth:
        runner = FleetRunner(boards, radio, truth, Pacer(start_sim_ms=start_ms, speed=1.0))
        stop = threading.Event()
        thread = threading.Thread(target=runner.run, args=(stop, RunLimits()))
        thread.start()
        try:
            eventually(lambda: births <= set(received.snapshot()), what="both boards online")
            broker.restart()
            seen = len(received.snapshot())
            eventually(lambda: births <= set(received.snapshot()[seen:]), timeout_s=20, what="births again")
            eventually(
                lambda: any(t.endswith("/telemetry") for t, _ in received.snapshot()[seen:]), what="samples again"
            )
        finally:
            stop.set()
            thread.join(20)
    radio.close()


def test_messages_in_flight_when_the_broker_dies_are_sent_again_after_reconnecting(village_id, tmp_path: Path) -> None:
    """Found by the chaos suite (issue 9): a broker restart dropped the boards' unacknowledged messages, while the
    ground truth said they were published. Firmware (esp-mqtt's outbox) sends them again on the new connection."""
    broker = start_mosquitto(tmp_path / "mosquitto")
    chosen = scenario(village_id, GroupSpec(kind="water", count=2, interval_s=0.05))
    start_ms = epoch_ms()
    boards = build_boards(chosen, start_ms=start_ms)
    radio = Radio(MqttEndpoint.parse(broker.url))
    try:
        with TruthLog(tmp_path / "truth.jsonl") as truth:
            runner = FleetRunner(boards, radio, truth, Pacer(start_sim_ms=start_ms, speed=1.0))
            thread = threading.Thread(target=runner.run, args=(threading.Event(), RunLimits(samples_per_board=80)))
            thread.start()
            eventually(lambda: sum(radio.acknowledged.values()) > 10, what="messages flowing")
            os.kill(broker.process.pid, signal.SIGSTOP)  # frozen: what the boards send now is never acknowledged
            eventually(lambda: radio.in_flight > 0, what="messages in flight")
            broker.process.kill()  # and then gone, with whatever it had not read
            broker.restart()
            thread.join(60)
            assert not thread.is_alive()
        assert radio.lost_in_flight > 0  # the kill interrupted messages in flight
        assert sum(radio.acknowledged.values()) == runner.published == len(read_truth(tmp_path / "truth.jsonl"))
    finally:
        radio.close()
        broker.process.stop()
