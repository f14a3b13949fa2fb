"""How fast the ingestor stores readings, against a bare paho subscriber on the same broker and backlog.

Starts a private mosquitto and InfluxDB (the configuration `village up` ships), then:

1. decode+validate+encode: `BatchPreparer.prepare` over the benchmark's messages, CPU µs per reading;
2. bare subscriber: a backlog of N messages (5 readings each, QoS 1) is published by a separate process as fast
   as the broker takes them into a persistent session, then a bare paho QoS 1 subscriber drains it, only counting;
3. ingestor: the same backlog into the ingestor's session, then `village ingest` (a real process) drains it;
   the rate is readings stored (its Prometheus counter) from the first message to the last reading, the count
   is verified in InfluxDB, and the peak RSS is the process's VmHWM.

With `--live` the publisher runs while the ingestor is consuming instead of building a backlog first.

    .venv/bin/python bench/ingest_throughput.py --count 100000
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import orjson
from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _mqtt_burst import T0_MS, telemetry

from devices.influxql import parse_results, query_form
from devices.registry import RegisteredDevice, Registry, Village, format_registry
from ingest.messages import InboundMessage
from ingest.prepare import BatchPreparer
from ingest.registry import DeviceRegistry
from village.processes import ManagedProcess, child_environment, free_port, spawn, wait_until
from village.services import Broker, Database, start_influxd, start_mosquitto

HERE = Path(__file__).resolve().parent
READINGS_PER_MESSAGE = 5
console = Console(highlight=False)


def registry_of(devices: int) -> Registry:
    village = Village(id="bench", name="Bench", lat=11.0, lon=106.65)
    boards = tuple(
        RegisteredDevice(id=f"b{d:05d}", village="bench", kind="water", name=f"Board {d}", lat=11.0, lon=106.65)
        for d in range(devices)
    )
    return Registry(villages=(village,), devices=boards)


def prepare_cost(count: int, *, devices: int, batch: int, registry_path: Path) -> tuple[float, float]:
    """(median, best) CPU µs per reading of BatchPreparer.prepare over the benchmark's messages, in batches of
    `batch`. CPU time, not wall time, but another busy process on the same cores still inflates it (caches), so
    the best batch is printed too."""
    preparer = BatchPreparer(registry=DeviceRegistry(registry_path, policy="reject"))
    stream = telemetry(count, devices=devices, seed=7)
    now_ms = T0_MS + (count // devices + 1) * 1000
    costs = []
    while True:
        messages = [
            InboundMessage(topic.decode(), payload, qos=1, retain=False, mid=i, received_ms=now_ms, session=1)
            for i, (topic, payload) in zip(range(batch), stream, strict=False)
        ]
        if not messages:
            break
        started = time.process_time()
        prepared = preparer.prepare(messages)
        costs.append((time.process_time() - started) / max(prepared.readings, 1) * 1e6)
        if prepared.rejections:
            raise AssertionError(f"benchmark data rejected: {prepared.rejections[:3]}")
    measured = costs[1:] or costs  # the first batch fills the caches (series keys, topics)
    return statistics.median(measured), min(measured)


def publish_backlog(broker: Broker, count: int, devices: int) -> dict[str, float]:
    argv = [sys.executable, str(HERE / "_mqtt_burst.py"), "--port", str(broker.port), "--count", str(count)]
    result = subprocess.run([*argv, "--devices", str(devices)], capture_output=True, check=True, timeout=600)
    return dict(orjson.loads(result.stdout))


def bare_rate(
    broker: Broker, count: int, devices: int, *, live: bool, client_id: str
) -> tuple[float, dict[str, float]]:
    """Readings/s of the bare subscriber draining a backlog of `count` messages (or taking them live)."""
    argv = [sys.executable, str(HERE / "_bare_subscriber.py"), "--port", str(broker.port), "--client-id", client_id]
    subprocess.run(argv, check=True, timeout=60)  # create the persistent session
    if live:
        subscriber = subprocess.Popen([*argv, "--count", str(count)], stdout=subprocess.PIPE)
        published = publish_backlog(broker, count, devices)
        out, _ = subscriber.communicate(timeout=900)
    else:
        published = publish_backlog(broker, count, devices)
        out = subprocess.run([*argv, "--count", str(count)], capture_output=True, check=True, timeout=900).stdout
    seconds = float(orjson.loads(out)["seconds"])
    return count * READINGS_PER_MESSAGE / seconds, published


def metric(url: str, name: str) -> float:
    try:
        text = httpx.get(url, timeout=2).text
    except httpx.HTTPError:
        return -1.0
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name) and not line.startswith("#"):
            total += float(line.rsplit(" ", 1)[1])
    return total


def start_ingestor(env: dict[str, str], metrics_port: int, log_dir: Path) -> ManagedProcess:
    argv = [sys.executable, "-m", "village", "ingest", "--metrics-port", str(metrics_port)]
    process = spawn("ingest", argv, log_path=log_dir / "ingest.log", env=child_environment(**env))
    url = f"http://127.0.0.1:{metrics_port}/metrics"
    wait_until(
        lambda: metric(url, "village_ingest_broker_connected") == 1, timeout_s=30, what="ingestor", process=process
    )
    return process


def stored_in_influx(database: Database, name: str) -> int:
    """Readings of the benchmark's five quantities in InfluxDB (duplicates overwrite, so this counts distinct)."""
    fields = ", ".join(f'count("{q}")' for q in ("ph", "turbidity", "do", "ec", "water_temp"))
    form = query_form(f"SELECT {fields} FROM water WHERE village = 'bench'", database=name)
    series = parse_results(httpx.post(f"{database.url}/query", data=form, timeout=60).content)[0]
    return int(sum(v for v in series[0].values[0][1:])) if series else 0


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def ingest_rate(
    broker: Broker, database: Database, env: dict[str, str], args: argparse.Namespace, log_dir: Path
) -> dict[str, float]:
    """Readings/s the ingestor stores draining the backlog (or, with --live, while it is being published)."""
    metrics_port = free_port()
    url = f"http://127.0.0.1:{metrics_port}/metrics"
    expected = args.count * READINGS_PER_MESSAGE
    first = start_ingestor(env, metrics_port, log_dir)  # creates the persistent session
    publisher = None
    if args.live:
        argv = [sys.executable, str(HERE / "_mqtt_burst.py"), "--port", str(broker.port), "--count", str(args.count)]
        publisher = subprocess.Popen([*argv, "--devices", str(args.devices)], stdout=subprocess.PIPE)
        ingestor = first
    else:
        if first.stop() != 0:
            raise RuntimeError(f"ingestor exited badly:\n{first.log_tail()}")
        publish_backlog(broker, args.count, args.devices)
        ingestor = start_ingestor(env, metrics_port, log_dir)
    started = None
    deadline = time.monotonic() + 900
    while time.monotonic() < deadline:
        now = time.perf_counter()
        if started is None and metric(url, "village_ingest_messages_total") > 0:
            started = now
        if metric(url, "village_ingest_readings_stored_total") >= expected:
            break
        time.sleep(0.1)
    finished = time.perf_counter()
    rss = peak_rss_mb(ingestor.pid)
    if publisher is not None:
        publisher.wait(60)
    os.kill(ingestor.pid, signal.SIGTERM)
    code = ingestor.popen.wait(30)
    stored = stored_in_influx(database, env["VILLAGE_INFLUX_DB"])
    return {
        "readings_per_s": expected / (finished - (started or finished)),
        "stored": stored,
        "expected": expected,
        "rss_mb": rss,
        "exit_code": code,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000, help="messages (5 readings each)")
    parser.add_argument("--devices", type=int, default=1000)
    parser.add_argument(
        "--batch", type=int, default=None, help="VILLAGE_INGEST_BATCH_MAX_MESSAGES (default: its default)"
    )
    parser.add_argument("--receive-maximum", type=int, default=None, help="VILLAGE_INGEST_RECEIVE_MAXIMUM")
    parser.add_argument("--live", action="store_true", help="publish while the ingestor consumes")
    parser.add_argument("--stock-paho", action="store_true", help="also run the ingestor on paho's stock receive path")
    parser.add_argument(
        "--repeat", type=int, default=1, help="rounds of bare + ingestor, alternating (ratios are taken per round)"
    )
    args = parser.parse_args()
    bare: list[float] = []
    results: dict[str, list[dict[str, float]]] = {}
    with tempfile.TemporaryDirectory(prefix="village-bench-") as tmp:
        work = Path(tmp)
        registry_path = work / "registry.toml"
        registry_path.write_text(format_registry(registry_of(args.devices)))
        cost_us = prepare_cost(args.count, devices=args.devices, batch=args.batch or 2000, registry_path=registry_path)
        broker = start_mosquitto(work / "mosquitto")
        database = start_influxd(work / "influxdb")
        try:
            for round_ in range(args.repeat):
                rate, published = bare_rate(
                    broker, args.count, args.devices, live=args.live, client_id=f"bare-{round_}"
                )
                bare.append(rate)
                for label, result in ingest_variants(
                    broker, database, args, work, registry_path=registry_path, round_=round_
                ).items():
                    results.setdefault(label, []).append(result)
        finally:
            broker.process.stop()
            database.process.stop()
    report(args, cost_us, bare, published, results)


def ingest_variants(
    broker: Broker, database: Database, args: argparse.Namespace, work: Path, *, registry_path: Path, round_: int
) -> dict[str, dict[str, float]]:
    variants = {"tuned paho receive path": "true", **({"stock paho receive path": "false"} if args.stock_paho else {})}
    results = {}
    for n, (label, fast) in enumerate(variants.items()):
        env = {
            "VILLAGE_MQTT_URL": broker.url,
            "VILLAGE_INFLUX_URL": database.url,
            "VILLAGE_INFLUX_DB": f"bench_{round_}_{n}",
            "VILLAGE_DATA_DIR": str(work / "data"),
            "VILLAGE_REGISTRY_FILE": str(registry_path),
            "VILLAGE_INGEST_UNKNOWN_DEVICES": "reject",
            "VILLAGE_INGEST_CLIENT_ID": f"bench-ingest-{round_}-{n}",
            "VILLAGE_INGEST_MQTT_FAST_PATH": fast,
        }
        if args.batch:
            env["VILLAGE_INGEST_BATCH_MAX_MESSAGES"] = str(args.batch)
        if args.receive_maximum:
            env["VILLAGE_INGEST_RECEIVE_MAXIMUM"] = str(args.receive_maximum)
        results[label] = ingest_rate(broker, database, env, args, work / f"logs-{round_}-{n}")
    return results


def report(
    args: argparse.Namespace,
    cost_us: tuple[float, float],
    bare: list[float],
    published: dict[str, float],
    results: dict[str, list[dict[str, float]]],
) -> None:
    def verdict(ok: bool) -> str:  # noqa: FBT001
        return "[green]ok[/]" if ok else "[red]MISSED[/]"

    def spread(values: list[float], fmt: str) -> str:
        if len(values) == 1:
            return format(values[0], fmt)
        return f"{format(statistics.median(values), fmt)} ({format(min(values), fmt)}–{format(max(values), fmt)})"

    mode = "live" if args.live else "backlog"
    rounds = f", median (min–max) of {args.repeat} rounds" if args.repeat > 1 else ""
    table = Table(
        title=f"Ingest throughput ({mode}): {args.count:,} messages × 5 readings, {args.devices:,} devices{rounds}"
    )
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_column("target")
    table.add_row(
        "publisher (raw MQTT 3.1.1, QoS 1)", f"{published['published'] / published['seconds']:,.0f} msg/s", ""
    )
    table.add_row("bare paho QoS 1 subscriber (counts only)", f"{spread(bare, ',.0f')} readings/s", "")
    lost_any = False
    for label, runs in results.items():
        ratios = [r["readings_per_s"] / b for r, b in zip(runs, bare, strict=True)]
        lost = sum(r["expected"] - r["stored"] for r in runs)
        lost_any |= lost != 0
        rss = max(r["rss_mb"] for r in runs)
        codes = {int(r["exit_code"]) for r in runs}
        stored = sum(int(r["stored"]) for r in runs)
        expected = sum(int(r["expected"]) for r in runs)
        table.add_row(
            f"ingestor, {label}: stored", f"{spread([r['readings_per_s'] for r in runs], ',.0f')} readings/s", ""
        )
        table.add_row("  stored / bare subscriber", spread(ratios, ".2f"), f"≥ 0.80 {verdict(min(ratios) >= 0.8)}")
        table.add_row("  in InfluxDB (counted)", f"{stored:,} of {expected:,}", f"0 lost {verdict(not lost)}")
        table.add_row("  peak RSS (VmHWM)", f"{rss:.0f} MB", f"≤ 150 {verdict(rss <= 150)}")
        table.add_row("  exit code after SIGTERM", ", ".join(map(str, sorted(codes))), f"0 {verdict(codes == {0})}")
    median_us, best_us = cost_us
    table.add_row(
        "decode+validate+encode (CPU, median / best batch)",
        f"{median_us:.2f} / {best_us:.2f} µs/reading",
        f"≤ 2 {verdict(median_us <= 2)}",
    )
    console.print(table)
    console.print(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")
    if lost_any:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
