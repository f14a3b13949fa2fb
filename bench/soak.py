"""Does the ingestor hold steady for ten minutes at half its capacity? Its RSS, lag and spool over a soak run.

Starts a private mosquitto and InfluxDB (the configuration `village up` ships) and `village ingest` as a real
process (1,000 registered boards, policy `reject`). A separate process (`_paced_publisher.py`) publishes native
telemetry at a steady `--rate` for `--duration` seconds, counting every message the broker acknowledged; one
message in 500 carries a pH beyond the hard limit, so the ground truth is exact: that many readings rejected,
every other one stored.

Every `--sample-s` seconds it samples the ingestor's RSS (VmRSS in /proc/<pid>/status), its CPU time, and its
Prometheus metrics: lag = readings published (acknowledged by the broker) − readings stored − readings rejected,
also given in seconds of traffic; spool bytes; the mean end-to-end latency (stored minus device time, from the
lag histogram) of the readings stored since the last sample. At the end it waits for the backlog to drain, counts
the distinct points in InfluxDB and the rejections in the rejected store, and checks lost = published − stored −
rejected = 0.

Verdicts: memory flat when RSS grew < 10 % between the reference point and the end. The reference point is
minute 2 of the 10-minute run, i.e. 20 % of `--duration`, so a short smoke run is read the same way (the
first minutes fill caches and allocator arenas). Lag bounded when no sample exceeded `--lag-bound-s` of traffic
and the lag's linear trend from the reference point on, over the whole duration, stays within that bound too.

Default rate: half of the live capacity measured on this 2-core machine, where publisher, broker, InfluxDB and
ingestor share the cores. Measured on 2026-11-30 with `bench/ingest_throughput.py --count 100000 --live` (load
average ~1): 41,845 readings/s stored; BENCHMARKS.md's `--live` figure (1.23 × 31,448 = 38,700) agrees within
the machine's noise. Half of that, rounded: 4,000 messages/s = 20,000 readings/s.

    .venv/bin/python bench/soak.py                              # 10 minutes at 4,000 msg/s
    .venv/bin/python bench/soak.py --duration 30 --rate 400 --json soak.json
"""

from __future__ import annotations

import argparse
import contextlib
import mmap
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import orjson
from prometheus_client.parser import text_string_to_metric_families
from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _paced_publisher import READINGS_PER_MESSAGE

from devices.influxql import parse_results, query_form
from devices.registry import RegisteredDevice, Registry, Village, format_registry
from village.processes import ManagedProcess, child_environment, free_port, spawn, wait_until
from village.services import Broker, Database, start_influxd, start_mosquitto

HERE = Path(__file__).resolve().parent
VILLAGE = "soak"
FIELDS = ("ph", "turbidity", "do", "ec", "water_temp")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
MIB = 1024 * 1024
console = Console(highlight=False)


@dataclass(frozen=True, slots=True)
class Sample:
    """One look at the running pipeline, `t_s` seconds after the publisher started."""

    t_s: float
    rss_bytes: int
    cpu_s: float
    published: int
    """Readings the broker has acknowledged."""
    stored: int
    rejected: int
    spool_bytes: int
    latency_sum_s: float
    latency_count: int
    influxd_rss_bytes: int
    mosquitto_rss_bytes: int

    @property
    def lag(self) -> int:
        """Readings published but neither stored nor rejected yet."""
        return self.published - self.stored - self.rejected


def proc_status(pid: int, key: str) -> int:
    """A `kB` line of /proc/<pid>/status, in bytes (0 once the process is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{key}:"):
                return int(line.split()[1]) * 1024
    except FileNotFoundError:
        pass
    return 0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (fields 14 and 15 of /proc/<pid>/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def scrape(url: str) -> dict[str, float]:
    """Every sample of the ingestor's metrics, summed over label sets; {} while it does not answer."""
    try:
        text = httpx.get(url, timeout=5).text
    except httpx.HTTPError:
        return {}
    totals: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            totals[sample.name] = totals.get(sample.name, 0.0) + sample.value
    return totals


class Pipeline:
    """The processes under watch and how to read them."""

    def __init__(self, ingestor: ManagedProcess, metrics_url: str, broker: Broker, database: Database) -> None:
        self.ingestor = ingestor
        self.metrics_url = metrics_url
        self.broker = broker
        self.database = database

    def sample(self, t_s: float, progress: memoryview) -> Sample:
        metrics = scrape(self.metrics_url)
        acked = progress[0]  # read after the ingestor's counts, so the lag is never understated
        return Sample(
            t_s=t_s,
            rss_bytes=proc_status(self.ingestor.pid, "VmRSS"),
            cpu_s=cpu_seconds(self.ingestor.pid),
            published=acked * READINGS_PER_MESSAGE,
            stored=int(metrics.get("village_ingest_readings_stored_total", 0)),
            rejected=int(metrics.get("village_ingest_rejected_total", 0)),
            spool_bytes=int(metrics.get("village_ingest_spool_bytes", 0)),
            latency_sum_s=metrics.get("village_ingest_lag_seconds_sum", 0.0),
            latency_count=int(metrics.get("village_ingest_lag_seconds_count", 0)),
            influxd_rss_bytes=proc_status(self.database.process.pid, "VmRSS"),
            mosquitto_rss_bytes=proc_status(self.broker.process.pid, "VmRSS"),
        )


def registry_text(devices: int) -> str:
    village = Village(id=VILLAGE, name="Soak", lat=11.0, lon=106.65)
    boards = tuple(
        RegisteredDevice(id=f"b{d:05d}", village=VILLAGE, kind="water", name=f"Board {d}", lat=11.0, lon=106.65)
        for d in range(devices)
    )
    return format_registry(Registry(villages=(village,), devices=boards))


def start_ingestor(env: dict[str, str], work: Path) -> tuple[ManagedProcess, str]:
    port = free_port()
    argv = [sys.executable, "-m", "village", "ingest", "--metrics-port", str(port)]
    process = spawn("ingest", argv, log_path=work / "ingest.log", env=child_environment(**env))
    url = f"http://127.0.0.1:{port}/metrics"
    wait_until(
        lambda: scrape(url).get("village_ingest_broker_connected") == 1,
        timeout_s=30,
        what="ingestor subscribed",
        process=process,
    )
    return process, url


def stored_in_influx(database: Database, name: str) -> int:
    """Distinct points of the soak's five quantities (a duplicate overwrites, so it cannot hide a loss)."""
    counts = ", ".join(f'count("{q}")' for q in FIELDS)
    form = query_form(f"SELECT {counts} FROM water WHERE village = '{VILLAGE}'", database=name)
    series = parse_results(httpx.post(f"{database.url}/query", data=form, timeout=300).content)[0]
    return int(sum(v for v in series[0].values[0][1:])) if series else 0


def rejected_in_store(env: dict[str, str], work: Path) -> int:
    """Rejections recorded in the rejected store, read with `village rejects list --json` (a real process)."""
    argv = [sys.executable, "-m", "village", "rejects", "list", "--json", "--limit", "0"]
    out = subprocess.run(argv, capture_output=True, check=True, timeout=300, env=child_environment(**env)).stdout
    entries = [orjson.loads(line) for line in out.splitlines() if line.startswith(b"{")]
    (work / "rejects.jsonl").write_bytes(out)
    return sum(len(entry.get("rejections", [])) for entry in entries)


def run_publisher(pipeline: Pipeline, args: argparse.Namespace, work: Path) -> tuple[list[Sample], dict[str, float]]:
    """Publish for `--duration` seconds, sampling every `--sample-s`; the last sample is taken as it ends."""
    progress_path = work / "progress"
    argv = [
        sys.executable, str(HERE / "_paced_publisher.py"), "--port", str(pipeline.broker.port),
        "--rate", str(args.rate), "--seconds", str(args.duration), "--progress", str(progress_path),
        "--devices", str(args.devices), "--village", VILLAGE,
    ]  # fmt: skip
    publisher = subprocess.Popen(argv, stdout=subprocess.PIPE)
    started = time.monotonic()
    wait_until(lambda: progress_path.exists() and progress_path.stat().st_size == 8, timeout_s=30, what="publisher")
    samples: list[Sample] = []
    with (
        progress_path.open("rb") as file,
        mmap.mmap(file.fileno(), 8, access=mmap.ACCESS_READ) as shared,
        memoryview(shared).cast("q") as progress,  # one aligned 8-byte count, never seen half written
    ):
        while True:
            next_at = started + (len(samples) + 1) * args.sample_s
            try:
                publisher.wait(timeout=max(next_at - time.monotonic(), 0))  # pacing the samples, or its end
                ended = True
            except subprocess.TimeoutExpired:
                ended = False
            samples.append(pipeline.sample(time.monotonic() - started, progress))
            if len(samples) > 1 and samples[-1].published < samples[-2].published:
                raise RuntimeError(f"the publisher's count went backwards: {samples[-2:]}")
            if ended:
                break
    out, _ = publisher.communicate()
    if publisher.returncode != 0:
        raise RuntimeError(f"the publisher failed with exit status {publisher.returncode}")
    return samples, dict(orjson.loads(out))


def latency_p95_bound_s(url: str) -> float:
    """The smallest bucket bound of the ingestor's end-to-end lag histogram that holds 95 % of its messages."""
    text = httpx.get(url, timeout=5).text
    buckets = [
        (float(sample.labels["le"]), sample.value)
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "village_ingest_lag_seconds_bucket"
    ]
    total = max((count for _, count in buckets), default=0.0)
    return next((bound for bound, count in sorted(buckets) if count >= 0.95 * total), float("nan"))


def drain(pipeline: Pipeline, expected: int, timeout_s: float) -> float:
    """Seconds until every published reading is stored or rejected (the backlog left when publishing stopped)."""
    started = time.monotonic()

    def done() -> bool:
        metrics = scrape(pipeline.metrics_url)
        accounted = metrics.get("village_ingest_readings_stored_total", 0) + metrics.get(
            "village_ingest_rejected_total", 0
        )
        return accounted >= expected

    wait_until(done, timeout_s=timeout_s, what="backlog drained", process=pipeline.ingestor)
    return time.monotonic() - started


def summarize(
    args: argparse.Namespace,
    samples: list[Sample],
    published: dict[str, float],
    *,
    stored: int,
    rejected: int,
    drain_s: float,
    peak_rss: int,
) -> dict[str, Any]:
    """The soak's figures and verdicts from its samples and the final accounting."""
    t_s = np.array([s.t_s for s in samples])
    rss_mib = np.array([s.rss_bytes for s in samples]) / MIB
    readings_per_s = args.rate * READINGS_PER_MESSAGE
    lag = np.array([s.lag for s in samples])
    lag_s = lag / readings_per_s
    ref = int(np.argmin(np.abs(t_s - 0.2 * args.duration)))
    late = t_s >= t_s[ref]
    rss_slope = float(np.polyfit(t_s[late] / 60, rss_mib[late], 1)[0]) if late.sum() >= 2 else float("nan")
    lag_slope = float(np.polyfit(t_s[late] / 60, lag_s[late], 1)[0]) if late.sum() >= 2 else float("nan")
    growth_pct = (rss_mib[-1] - rss_mib[ref]) / rss_mib[ref] * 100
    latency_n = np.diff([s.latency_count for s in samples])
    latency_sum = np.diff([s.latency_sum_s for s in samples])
    latency = latency_sum[latency_n > 0] / latency_n[latency_n > 0]
    first, last = samples[0], samples[-1]
    bad = int(published["bad"])
    lag_max_s = float(lag_s.max())
    return {
        "command": " ".join(["bench/soak.py", *sys.argv[1:]]),
        "duration_s": args.duration,
        "rate_messages_per_s": args.rate,
        "rate_readings_per_s": readings_per_s,
        "devices": args.devices,
        "sample_s": args.sample_s,
        "samples_taken": len(samples),
        "published_messages": int(published["published"]),
        "published_readings": int(published["readings"]),
        "publisher_readings_per_s": published["readings"] / published["seconds"],
        "publisher_max_behind_s": published["max_behind"] / args.rate,
        "stored": stored,
        "rejected": rejected,
        "rejected_expected": bad,
        "lost": int(published["readings"]) - stored - rejected,
        "throughput_readings_per_s": (last.stored + last.rejected) / last.t_s,
        "drain_s": drain_s,
        "rss_ref_t_s": float(t_s[ref]),
        "rss_ref_mib": float(rss_mib[ref]),
        "rss_end_t_s": float(t_s[-1]),
        "rss_end_mib": float(rss_mib[-1]),
        "rss_growth_pct": float(growth_pct),
        "rss_slope_mib_per_min": rss_slope,
        "rss_peak_mib": peak_rss / MIB,
        "lag_max_readings": int(lag.max()),
        "lag_p95_readings": float(np.percentile(lag, 95)),
        "lag_max_s": lag_max_s,
        "lag_p95_s": float(np.percentile(lag_s, 95)),
        "lag_slope_s_per_min": lag_slope,
        "latency_mean_s": float(latency.mean()) if len(latency) else float("nan"),
        "latency_max_interval_mean_s": float(latency.max()) if len(latency) else float("nan"),
        "spool_max_bytes": max(s.spool_bytes for s in samples),
        "ingestor_cpu_pct": (last.cpu_s - first.cpu_s) / (last.t_s - first.t_s) * 100,
        "influxd_rss_mib": [first.influxd_rss_bytes / MIB, last.influxd_rss_bytes / MIB],
        "mosquitto_rss_mib": [first.mosquitto_rss_bytes / MIB, last.mosquitto_rss_bytes / MIB],
        "memory_flat": bool(growth_pct < 10),
        "lag_bounded": bool(lag_max_s <= args.lag_bound_s and lag_slope * args.duration / 60 <= args.lag_bound_s),
        "lag_bound_s": args.lag_bound_s,
    }


def report(f: dict[str, Any], samples: list[Sample]) -> None:
    def yes(ok: bool) -> str:  # noqa: FBT001
        return "[green]yes[/]" if ok else "[red]no[/]"

    table = Table(title=f"Soak: {f['duration_s']:.0f} s at {f['rate_readings_per_s']:,.0f} readings/s")
    table.add_column("measure")
    table.add_column("value", justify="right")
    rows = {
        "target rate": f"{f['rate_messages_per_s']:,.0f} msg/s = {f['rate_readings_per_s']:,.0f} readings/s",
        "publisher achieved (max behind)": f"{f['publisher_readings_per_s']:,.0f} readings/s "
        f"({f['publisher_max_behind_s']:.2f} s)",
        "published readings": f"{f['published_readings']:,}",
        "stored (distinct points in InfluxDB)": f"{f['stored']:,}",
        "rejected (rejected store; planted)": f"{f['rejected']:,} ({f['rejected_expected']:,})",
        "lost = published − stored − rejected": f"{f['lost']:,}",
        "throughput, stored + rejected": f"{f['throughput_readings_per_s']:,.0f} readings/s",
        f"RSS at {f['rss_ref_t_s']:.0f} s (reference, 20 %)": f"{f['rss_ref_mib']:.1f} MiB",
        f"RSS at {f['rss_end_t_s']:.0f} s (end)": f"{f['rss_end_mib']:.1f} MiB",
        "RSS growth reference → end": f"{f['rss_growth_pct']:+.1f} %",
        "RSS slope, reference → end": f"{f['rss_slope_mib_per_min']:+.3f} MiB/min",
        "peak RSS (VmHWM)": f"{f['rss_peak_mib']:.1f} MiB",
        "lag max / p95 (readings)": f"{f['lag_max_readings']:,} / {f['lag_p95_readings']:,.0f}",
        "lag max / p95 (s of traffic)": f"{f['lag_max_s']:.2f} / {f['lag_p95_s']:.2f} s",
        "lag slope, reference → end": f"{f['lag_slope_s_per_min']:+.4f} s/min",
        "end-to-end latency, mean / worst interval": f"{f['latency_mean_s']:.2f} / "
        f"{f['latency_max_interval_mean_s']:.2f} s",
        "end-to-end latency, p95 (histogram bucket)": f"≤ {f['latency_p95_le_s']:g} s",
        "spool, max": f"{f['spool_max_bytes']:,} bytes",
        "ingestor CPU": f"{f['ingestor_cpu_pct']:.0f} % of one core",
        "backlog drained after the last publish": f"{f['drain_s']:.1f} s",
        "influxd RSS, first → last sample": "{:.0f} → {:.0f} MiB".format(*f["influxd_rss_mib"]),
        "mosquitto RSS, first → last sample": "{:.1f} → {:.1f} MiB".format(*f["mosquitto_rss_mib"]),
        "ingestor exit status on SIGTERM": str(f["ingestor_exit_code"]),
        "samples": f"{f['samples_taken']} every {f['sample_s']:g} s",
    }
    for name, value in rows.items():
        table.add_row(name, value)
    console.print(table)
    console.print(timeline(samples, f))
    load = " ".join(f"{x:.2f}" for x in f["load_after"])
    console.print(f"load average at the end: {load} on {os.cpu_count()} CPUs")
    console.print(f"memory flat: {yes(f['memory_flat'])} (growth < 10 % between the reference point and the end)")
    console.print(f"lag bounded: {yes(f['lag_bounded'])} (≤ {f['lag_bound_s']:g} s of traffic, trend included)")


def timeline(samples: list[Sample], f: dict[str, Any]) -> Table:
    """About ten samples spread over the run."""
    table = Table(title="Timeline")
    for column in ("t", "RSS MiB", "lag readings", "lag s", "spool bytes", "influxd MiB"):
        table.add_column(column, justify="right")
    step = max(len(samples) // 10, 1)
    for s in [*samples[step - 1 :: step][:-1], samples[-1]]:
        table.add_row(
            f"{s.t_s:.0f} s",
            f"{s.rss_bytes / MIB:.1f}",
            f"{s.lag:,}",
            f"{s.lag / f['rate_readings_per_s']:.2f}",
            f"{s.spool_bytes:,}",
            f"{s.influxd_rss_bytes / MIB:.0f}",
        )
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=600, help="seconds of publishing (default 600)")
    parser.add_argument(
        "--rate", type=float, default=4000, help="messages/s, 5 readings each (default 4,000: half of capacity)"
    )
    parser.add_argument("--devices", type=int, default=1000)
    parser.add_argument("--sample-s", type=float, default=None, help="seconds between samples (default 5, or less)")
    parser.add_argument("--lag-bound-s", type=float, default=10.0, help="lag allowed, in seconds of traffic")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures and samples here")
    args = parser.parse_args()
    args.sample_s = args.sample_s or min(5.0, args.duration / 15)
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="village-soak-") as tmp, contextlib.ExitStack() as running:
        work = Path(tmp)
        (work / "registry.toml").write_text(registry_text(args.devices))
        broker = start_mosquitto(work / "mosquitto")
        running.callback(broker.process.stop)
        database = start_influxd(work / "influxdb")
        running.callback(database.process.stop)
        env = {
            "VILLAGE_MQTT_URL": broker.url,
            "VILLAGE_INFLUX_URL": database.url,
            "VILLAGE_INFLUX_DB": "soak",
            "VILLAGE_DATA_DIR": str(work / "data"),
            "VILLAGE_REGISTRY_FILE": str(work / "registry.toml"),
            "VILLAGE_INGEST_UNKNOWN_DEVICES": "reject",
            "VILLAGE_INGEST_CLIENT_ID": "soak-ingest",
        }
        ingestor, url = start_ingestor(env, work)
        running.callback(ingestor.stop)
        pipeline = Pipeline(ingestor, url, broker, database)
        samples, published = run_publisher(pipeline, args, work)
        drain_s = drain(pipeline, int(published["readings"]), timeout_s=max(120, args.duration / 2))
        peak_rss = proc_status(ingestor.pid, "VmHWM")
        latency_p95 = latency_p95_bound_s(url)
        exit_code = ingestor.stop(30)
        stored = stored_in_influx(database, env["VILLAGE_INFLUX_DB"])
        rejected = rejected_in_store(env, work)
    figures = summarize(args, samples, published, stored=stored, rejected=rejected, drain_s=drain_s, peak_rss=peak_rss)
    figures |= {
        "latency_p95_le_s": latency_p95,
        "ingestor_exit_code": exit_code,
        "load_before": load_before,
        "load_after": os.getloadavg(),
    }
    report(figures, samples)
    if args.json:
        args.json.write_bytes(orjson.dumps({**figures, "samples": [asdict(s) for s in samples]}))
    if figures["lost"] != 0 or figures["rejected"] != figures["rejected_expected"] or exit_code != 0:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
