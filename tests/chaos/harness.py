"""The moving parts of a chaos scenario: private mosquitto and InfluxDB, real `village ingest` and `village simulate`
processes, the scenario file the simulator runs, and reading the outcome back.

Each scenario gets its own broker and database processes (killing them must not disturb other tests), its own
data directory, and a steady fleet whose rate and length come from a profile: short in CI, longer by hand
(`VILLAGE_CHAOS=long`).
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson

from devices.registry import format_registry
from simulators.scenario import parse_scenario, registry_of
from simulators.truth import iter_truth
from tests.helpers import metric, unique_id, village_process
from village.processes import ManagedProcess, free_port, wait_until
from village.services import Broker, Database

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "chaos"


@dataclass(frozen=True)
class Profile:
    """How long and how hard a scenario runs."""

    name: str
    interval_s: float
    """Seconds between two samples of a board (the fleet has 12 boards)."""
    stream_s: float
    """How long the simulator publishes."""
    outage_s: float
    """How long a killed service stays away (InfluxDB: 30 s whatever the profile, as issue 9 asks)."""


CI = Profile("ci", interval_s=0.25, stream_s=24, outage_s=8)
LONG = Profile("long", interval_s=0.1, stream_s=150, outage_s=60)


def profile() -> Profile:
    """`VILLAGE_CHAOS=long` for the manual variant (minutes per scenario, 2.5× the rate)."""
    return LONG if os.environ.get("VILLAGE_CHAOS", "ci") == "long" else CI


def fleet_toml(village: str, *, interval_s: float, clockless: bool = False, seed: int = 9) -> str:
    """A steady fleet with every board on a device clock (NTP, no skew), and the faults that make rejections
    and duplicates: NaN, out of range, cut payloads, double publishes, SenML units that cannot be converted.
    `clockless` adds one board without a clock (its readings are stored at the receive time)."""
    text = f"""
name = "chaos"
seed = {seed}
villages = ["{village}"]

[[village]]
id = "{village}"
name = "Làng thử thách"
lat = 11.1
lon = 106.6

[faults]
nan = 0.002
out_of_range = 0.002
malformed_json = 0.01
duplicate = 0.02

[[group]]
kind = "water"
count = 4
interval_s = {interval_s}
supply = "mains"

[[group]]
kind = "air"
count = 3
interval_s = {interval_s}
supply = "mains"

[[group]]
kind = "air"
count = 2
interval_s = {interval_s}
format = "senml"
supply = "mains"
[group.faults]
wrong_unit = 0.01
duplicate = 0.02
malformed_json = 0.01

[[group]]
kind = "agri"
count = 2
interval_s = {interval_s * 2}
supply = "mains"

[[group]]  # wakes, buffers 5 samples, uploads them as one store-and-forward array, sleeps
kind = "water"
count = 1
interval_s = {interval_s}
mode = "deep_sleep"
upload_every = 5
supply = "mains"
"""
    if clockless:
        text += f"""
[[group]]  # no NTP: no `ts` at all
kind = "agri"
count = 1
interval_s = {interval_s * 2}
clock = "none"
supply = "mains"
"""
    return text


@dataclass
class Stack:
    """One scenario's private services and files."""

    broker: Broker
    influxdb: Database
    workdir: Path
    village: str = field(default_factory=lambda: unique_id("chaos"))
    database: str = field(default_factory=lambda: unique_id("chaos").replace("-", "_"))

    @property
    def data_dir(self) -> Path:
        return self.workdir / "data"

    @property
    def registry_path(self) -> Path:
        return self.workdir / "registry.toml"

    def env(self, **extra: str) -> dict[str, str]:
        """VILLAGE_* settings of the ingestors and tools of this scenario (policy `reject`, as in production)."""
        return {
            "VILLAGE_MQTT_URL": self.broker.url,
            "VILLAGE_INFLUX_URL": self.influxdb.url,
            "VILLAGE_INFLUX_DB": self.database,
            "VILLAGE_DATA_DIR": str(self.data_dir),
            "VILLAGE_REGISTRY_FILE": str(self.registry_path),
            "VILLAGE_INGEST_UNKNOWN_DEVICES": "reject",
            "VILLAGE_INGEST_BATCH_MAX_WAIT_MS": "50",
            "VILLAGE_INGEST_RETRY_MAX_S": "1",
            **extra,
        }

    def write_scenario(self, toml: str) -> Path:
        """The scenario file, and the registry of its boards for the ingestors."""
        path = self.workdir / "scenario.toml"
        path.write_text(toml, encoding="utf-8")
        self.registry_path.write_text(format_registry(registry_of(parse_scenario(toml))), encoding="utf-8")
        return path


class Ingestor:
    """A real `village ingest` process with its Prometheus endpoint."""

    def __init__(self, stack: Stack, client_id: str, *, name: str = "ingest", **env: str) -> None:
        self.stack = stack
        self.client_id = client_id
        self.name = name
        self.env = stack.env(VILLAGE_INGEST_CLIENT_ID=client_id, **env)
        self.port = free_port()
        self.process: ManagedProcess | None = None
        self.runs = 0

    def start(self) -> Ingestor:
        """Start (again) and wait until it is subscribed."""
        self.runs += 1
        self.process = village_process(
            f"{self.name}-{self.runs}", "ingest", "--metrics-port", str(self.port), env=self.env,
            log_dir=self.stack.workdir,
        )  # fmt: skip
        wait_until(
            lambda: self.metric("village_ingest_broker_connected") == 1,
            timeout_s=30,
            what=f"{self.name} subscribed",
            process=self.process,
        )
        return self

    def metric(self, name: str, **labels: str) -> float:
        """A metric of the running process; 0 while it does not answer."""
        try:
            return metric(self.port, name, **labels)
        except httpx.HTTPError:
            return 0.0

    def alive(self) -> bool:
        return self.process is not None and self.process.alive()

    def kill(self) -> None:
        """SIGKILL: no flush, no last acknowledgements."""
        assert self.process is not None
        self.process.kill()

    def freeze(self) -> None:
        """SIGSTOP: the process hangs (a stalled disk, a long pause) while the broker keeps sending to it."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGSTOP)

    def stop(self) -> int | None:
        """SIGTERM; the exit status (0 when it flushed and left cleanly)."""
        return self.process.stop(20) if self.process is not None else None

    def unread_from(self, port: int) -> int:
        """Bytes the peer on `port` (the broker) sent that this process has not read yet, from /proc/net/tcp:
        while it hangs, that is what the broker delivered and can never have been acknowledged."""
        assert self.process is not None
        inodes = set()
        for fd in Path(f"/proc/{self.process.pid}/fd").iterdir():
            target = str(fd.readlink())
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
        unread = 0
        for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
            fields = line.split()
            remote_port = int(fields[2].split(":")[1], 16)
            if remote_port == port and fields[9] in inodes:
                unread += int(fields[4].split(":")[1], 16)
        return unread

    def log(self) -> str:
        logs = sorted(self.stack.workdir.glob(f"{self.name}-*.log"))
        return "\n".join(p.read_text(errors="replace") for p in logs)


class Simulation:
    """`village simulate` publishing the scenario in real time for `seconds`, with its ground-truth log."""

    def __init__(self, stack: Stack, scenario: Path, *, seconds: float) -> None:
        self.truth_path = stack.workdir / "truth.jsonl"
        self.started_s = time.monotonic()
        self.process = village_process(
            "simulate", "simulate", "--scenario", str(scenario), "--truth", str(self.truth_path),
            "--duration", f"{seconds:g}s", "--no-progress", env=stack.env(), log_dir=stack.workdir,
        )  # fmt: skip

    def published(self) -> int:
        """Lines in the ground truth so far (it is flushed as the simulator goes, roughly)."""
        try:
            with self.truth_path.open("rb") as file:
                return sum(1 for _ in file)
        except FileNotFoundError:
            return 0

    def wait(self, timeout_s: float) -> None:
        """Until the simulator has finished and exited 0 (every board offline, every publish acknowledged)."""
        wait_until(lambda: not self.process.alive(), timeout_s=timeout_s, what="simulator finished")
        assert self.process.popen.returncode == 0, self.process.log_tail(40)
        log = self.process.log_path.read_text(errors="replace")
        assert "were not acknowledged" not in log, self.process.log_tail(40)

    def truth(self) -> list[dict[str, Any]]:
        return list(iter_truth(self.truth_path))


def during(seconds: float, check: Callable[[], object], *, every_s: float = 0.5) -> None:
    """Hold a fault for `seconds` of wall time (the outage window itself), checking `check` all along."""
    deadline = time.monotonic() + seconds
    while True:
        check()
        left = deadline - time.monotonic()
        if left <= 0:
            return
        time.sleep(min(every_s, left))  # pacing the outage window, not waiting for an effect


def rejected_entries(stack: Stack) -> list[dict[str, Any]]:
    """The rejected store as `village rejects list --json --limit 0` prints it (a real process)."""
    out = stack.workdir / "rejects.jsonl"
    process = village_process("rejects-list", "rejects", "list", "--json", "--limit", "0", env=stack.env(),
                              log_dir=stack.workdir)  # fmt: skip
    wait_until(lambda: not process.alive(), timeout_s=60, what="village rejects list")
    assert process.popen.returncode == 0, process.log_tail()
    lines = process.log_path.read_bytes().splitlines()
    out.write_bytes(b"\n".join(lines))
    return [orjson.loads(line) for line in lines if line.startswith(b"{")]


def write_artifact(name: str, data: dict[str, object]) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / f"{name}.json").write_bytes(orjson.dumps(data, option=orjson.OPT_INDENT_2))
