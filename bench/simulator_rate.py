"""Simulator benchmarks: load-mode rate next to a bare paho publisher, and memory with 10,000 boards.

Run: .venv/bin/python bench/simulator_rate.py [--messages 100000] [--boards 10000] [--seconds 90]

Starts a private mosquitto (the project's configuration) on a free port. Targets (issue 4): load mode
≥ 0.8× the bare paho publisher's rate; 10,000 boards in one process at real-time rates run in < 500 MB.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import tempfile
import threading
import time
from pathlib import Path

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from devices.config import MqttEndpoint
from simulators import payloads
from simulators.fleet import FleetRunner, RunLimits, build_boards
from simulators.load import LoadRunner
from simulators.pacing import Pacer, epoch_ms
from simulators.radio import Radio
from simulators.scenario import GroupSpec, load_scenario
from simulators.truth import TruthLog
from village.services import start_mosquitto


def rss_mb() -> float:
    return int(Path("/proc/self/statm").read_text().split()[1]) * resource.getpagesize() / 1e6


def bare_paho(endpoint: MqttEndpoint, payloads: list[tuple[str, bytes]], *, window: int = 2000) -> float:
    """The simplest correct paho publisher: loop_start, QoS 1, a semaphore of `window` unacknowledged messages.

    Without the window, paho refuses publishes once ~65,535 are unacknowledged (MQTT_ERR_QUEUE_SIZE): measured
    here with 100,000 messages, the naive loop fails.
    """
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id="bench-bare", protocol=MQTTProtocolVersion.MQTTv311)
    client.max_inflight_messages_set(window)
    client.max_queued_messages_set(0)
    room = threading.Semaphore(window)
    client.on_publish = lambda *_args: room.release()
    client.connect(endpoint.host, endpoint.port)
    client.loop_start()
    time.sleep(0.5)
    started = time.perf_counter()
    for topic, payload in payloads:
        room.acquire()
        info = client.publish(topic, payload, qos=1)
        if info.rc != paho.MQTT_ERR_SUCCESS:
            raise RuntimeError(f"bare paho refused a publish: {paho.error_string(info.rc)}")
    for _ in range(window):
        room.acquire()
    seconds = time.perf_counter() - started
    client.loop_stop()
    client.disconnect()
    return len(payloads) / seconds


def load_mode(endpoint: MqttEndpoint, messages: int, devices: int) -> float:
    scenario = load_scenario("basic")
    groups = tuple(GroupSpec(kind=k, count=devices // 9 + 1) for k in ("water", "air", "agri"))
    boards = build_boards(scenario.model_copy(update={"group": groups}), start_ms=epoch_ms(), live_links=False)
    boards = boards[:devices]
    radio = Radio(endpoint)
    runner = LoadRunner(boards, radio, TruthLog(None), connections=2, window=2000, client_id="bench-load")
    result = runner.run(threading.Event(), messages=messages)
    radio.close()
    if result.acknowledged != messages:
        raise RuntimeError(f"load mode: {result.acknowledged} of {messages} acknowledged")
    return result.rate


def sample_payloads(messages: int, devices: int) -> list[tuple[str, bytes]]:
    """Payloads of the same size the load mode sends, built before the clock starts (the bare publisher's edge)."""
    scenario = load_scenario("basic")
    boards = build_boards(scenario, start_ms=epoch_ms(), live_links=False)
    radio_free = []
    for i in range(min(devices, 2000)):
        board = boards[i % len(boards)]
        _at, values, _sun, _rain = board.take_reading()
        sample = payloads.Sample(epoch_ms(), epoch_ms(), i, 3.9, -60, dict(values))
        radio_free.append((f"village/bench/bare-{i}/telemetry", payloads.native([sample], array=False)))
    return [radio_free[i % len(radio_free)] for i in range(messages)]


def memory(endpoint: MqttEndpoint, boards_count: int, seconds: float) -> None:
    scenario = load_scenario("basic")
    per_group = boards_count // (3 * len(scenario.chosen_villages())) + 1
    groups = tuple(GroupSpec(kind=k, count=per_group, interval_s=60) for k in ("water", "air", "agri"))
    chosen = scenario.model_copy(update={"group": groups})
    before = rss_mb()
    start_ms = epoch_ms()
    boards = build_boards(chosen, start_ms=start_ms)[:boards_count]
    built = rss_mb()
    radio = Radio(endpoint)
    runner = FleetRunner(boards, radio, TruthLog(None), Pacer(start_sim_ms=start_ms, speed=1.0))
    started = time.perf_counter()
    runner.run(threading.Event(), RunLimits(duration_s=seconds))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3
    print(
        f"memory: {len(boards):,} boards, each its own MQTT connection, sampling every 60 s, for "
        f"{time.perf_counter() - started:.0f} s: {runner.published:,} messages published, "
        f"{sum(radio.acknowledged.values()):,} acknowledged"
    )
    print(f"memory: RSS {before:.0f} MB before, {built:.0f} MB with boards built, peak {peak:.0f} MB (target < 500 MB)")
    radio.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--devices", type=int, default=1_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--boards", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=90.0)
    args = parser.parse_args()
    broker = start_mosquitto(Path(tempfile.mkdtemp(prefix="bench-mosquitto-")))
    try:
        endpoint = MqttEndpoint.parse(broker.url)
        if args.rounds:
            rates(endpoint, args.messages, args.devices, args.rounds)
        if args.boards:
            memory(endpoint, args.boards, args.seconds)
    finally:
        broker.process.stop()


def rates(endpoint: MqttEndpoint, messages: int, devices: int, rounds: int) -> None:
    payloads = sample_payloads(messages, devices)
    bare, load = [], []
    for _ in range(rounds):
        bare.append(bare_paho(endpoint, payloads))
        load.append(load_mode(endpoint, messages, devices))
    b, lm = statistics.median(bare), statistics.median(load)
    print(f"rate: {messages:,} QoS 1 messages, median of {rounds} rounds, mosquitto 2.0.11 on loopback")
    print(f"rate: bare paho (loop_start, window 2000, pre-built payloads): {b:,.0f} msg/s {[round(x) for x in bare]}")
    print(f"rate: load mode ({devices:,} devices, 2 connections): {lm:,.0f} msg/s  {[round(x) for x in load]}")
    print(f"rate: load mode / bare paho = {lm / b:.2f} (target ≥ 0.8)")


if __name__ == "__main__":
    main()
