"""A month of fleet history the real way: `village simulate --backfill` → mosquitto → real ingestor → InfluxDB.

The fleet is the `demo` scenario, the one `village up` runs and `dashboards/stations.toml` maps. After the
backfill, a short accelerated live run lets the boards connect as firmware does (retained `online`, `offline`
before deep sleep, last wills), which is what the ingest engine turns into `status`; seq gaps from the
scenario's dropouts become `link`. What must be stored is computed from the simulator's ground-truth logs by
`simulators.prediction`, independently of InfluxDB.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import orjson

from devices.registry import Registry
from devices.topics import Channel, Topic
from simulators.prediction import Prediction, predict
from simulators.truth import read_truth
from tests.helpers import eventually, mqtt_publisher, publish_all, village_process

SCENARIO = "demo"
HISTORY = "30d"
BACKFILL_INTERVAL_S = 900
"""One sample per board every 15 minutes keeps CI short while every panel still has a month of data."""
LIVE = ("--start", "-20m", "--speed", "60", "--duration", "25s")
"""Twenty simulated minutes in twenty seconds, then five real ones: deep-sleep boards wake, upload and sleep."""


@dataclass
class SentHistory:
    """What the ground truth says InfluxDB must hold, per device and quantity, sorted by time."""

    series: dict[str, dict[str, list[tuple[int, float]]]] = field(default_factory=dict)
    receive_time_devices: set[str] = field(default_factory=set)
    """Boards without a credible clock: their readings are stored at the receive time, unknown in advance."""
    rejected: int = 0
    prediction: Prediction | None = None

    def values(self, device: str, quantity: str, start_ms: int, end_ms: int) -> list[float]:
        """Values of one device and quantity with start_ms ≤ time ≤ end_ms, in time order."""
        points = self.series.get(device, {}).get(quantity, [])
        times = [ts for ts, _ in points]
        return [v for _, v in points[bisect.bisect_left(times, start_ms) : bisect.bisect_right(times, end_ms)]]


def history_from(
    truth_files: list[Path], *, rejected: int, extra: dict[str, dict[str, list[tuple[int, float]]]]
) -> SentHistory:
    """Expected stored points from the simulator's ground-truth logs (telemetry, SenML and status) and `extra`."""
    entries = [entry for path in truth_files for entry in read_truth(path)]
    prediction = predict(entries)
    series: dict[str, dict[str, list[tuple[int, float]]]] = defaultdict(lambda: defaultdict(list))
    for (device, quantity, ts_ms), value in prediction.points.items():
        series[device][quantity].append((ts_ms, value))
    for device, readings in extra.items():
        for quantity, points in readings.items():
            series[device][quantity].extend(points)
    for quantities in series.values():
        for points in quantities.values():
            points.sort()
    receive_time = {device for device, _ in prediction.receive_time}
    return SentHistory(
        {d: dict(q) for d, q in series.items()}, receive_time, rejected + len(prediction.rejections), prediction
    )


def iso(ts_ms: int) -> str:
    return datetime.fromtimestamp(ts_ms / 1000, tz=UTC).isoformat().replace("+00:00", "Z")


def simulate(name: str, *args: str, env: dict[str, str], work: Path, timeout_s: float) -> Path:
    """Run `village simulate` to completion; returns its ground-truth log."""
    truth = work / f"{name}.jsonl"
    process = village_process(
        name, "simulate", "--scenario", SCENARIO, "--no-progress", "--truth", str(truth), *args, env=env, log_dir=work
    )
    eventually(lambda: not process.alive(), timeout_s=timeout_s, interval_s=0.5, what=f"{name} finished")
    assert process.popen.returncode == 0, process.log_tail(30)
    return truth


def publish_refused(broker_url: str, registry: Registry, *, at_ms: int) -> int:
    """Two readings beyond their hard limits and one unknown quantity, so `rejects` has rows; returns 4."""
    board = next(d for d in registry.devices if d.kind == "water")
    topic = str(Topic(board.village, board.id, Channel.TELEMETRY))
    payloads = [orjson.dumps({"ts": at_ms - i, "readings": {"turbidity": v, "radiation": 1.0}}) for i, v in
                enumerate((5000.0, -3.0))]  # fmt: skip
    with mqtt_publisher(broker_url) as client:
        publish_all(client, [(topic, p) for p in payloads])
    return 4


def publish_alarms(broker_url: str, registry: Registry, *, at_ms: int) -> dict[str, dict[str, list[tuple[int, float]]]]:
    """Readings that must make the pH and battery rules fire for one board each; returns what was sent.

    A healthy simulated month fires nothing, which would make the alert comparison vacuous. The pH rule takes
    the hour's mean, so the water board gets an acid episode of 40 readings, not a single one.
    """
    water = next(d for d in registry.devices if d.kind == "water")
    air = next(d for d in registry.devices if d.kind == "air")
    alarms = {
        water.id: {"ph": [(at_ms - i * 1000, 4.0) for i in range(40)]},
        air.id: {"bat": [(at_ms, 3.21)]},
    }
    messages = []
    for device in (water, air):
        for quantity, points in alarms[device.id].items():
            payload = orjson.dumps([{"ts": ts, "readings": {quantity: value}} for ts, value in points])
            messages.append((str(Topic(device.village, device.id, Channel.TELEMETRY)), payload))
    with mqtt_publisher(broker_url) as client:
        publish_all(client, messages)
    return alarms


def clear_status(broker_url: str, registry: Registry) -> None:
    """Remove the retained status messages so later tests on the same broker do not receive them."""
    with mqtt_publisher(broker_url) as client:
        topics = [str(Topic(d.village, d.id, Channel.STATUS)) for d in registry.devices]
        infos = [client.publish(topic, b"", qos=1, retain=True) for topic in topics]
        for info in infos:
            info.wait_for_publish(10)
