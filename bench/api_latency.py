"""Latency of `GET /api/v1/series` next to the same InfluxQL sent to InfluxDB directly, in one run.

Starts a private InfluxDB, writes `--days` of 1-minute air readings for `--devices` devices (line protocol,
straight to /write: this measures reads, not ingestion), starts `village api` as its own process, then for
`--requests` rounds picks a random device and times, alternately, the raw query and the API call that sends it.
Scenarios: one device-week at 1-minute buckets (10,080 points) and at 1-hour buckets (168 points).

    .venv/bin/python bench/api_latency.py            # 100 devices x 7 days, 300 requests per scenario
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import numpy as np
import orjson

from api.auth import PUBLIC
from api.series import SeriesQuery, raw_statement
from devices.influxql import query_form
from devices.quantities import QUANTITIES
from devices.registry import RegisteredDevice, Registry, Village, format_registry
from devices.schema import schema_statements
from village.processes import child_environment, free_port, spawn, wait_until
from village.services import start_influxd

MINUTE_MS = 60_000
DATABASE = "bench"
ZONE = ZoneInfo("Asia/Ho_Chi_Minh")


def fill(influx: httpx.Client, *, devices: int, days: int, end_ms: int) -> int:
    """Write 1-minute air samples (pm25, pm10, co2, air_temp, humidity) for every device; returns points."""
    for statement in schema_statements(DATABASE):
        influx.post("/query", data={"q": statement}).raise_for_status()
    rng = np.random.default_rng(5)
    minutes = days * 24 * 60
    times = end_ms - np.arange(minutes, 0, -1, dtype=np.int64) * MINUTE_MS
    for number in range(devices):
        village = f"v{number // 10:02d}"
        key = f"air,device=bench-air-{number:03d},village={village}"
        pm25 = np.round(28 + 10 * np.sin(times / 8.64e7 * 2 * np.pi) + rng.normal(0, 3, minutes), 1)
        columns = zip(times.tolist(), pm25.tolist(), (pm25 * 1.7).round(1).tolist(), strict=True)
        lines = [f"{key} pm25={a},pm10={b},co2=430,air_temp=28.5,humidity=76 {t}" for t, a, b in columns]
        for start in range(0, len(lines), 20_000):
            body = "\n".join(lines[start : start + 20_000]).encode()
            influx.post("/write", params={"db": DATABASE, "precision": "ms"}, content=body).raise_for_status()
    return devices * minutes


def write_registry(path: Path, *, devices: int) -> None:
    """Every bench device registered, as in a deployment (unregistered ones cost a lookup per request)."""
    villages = {f"v{n // 10:02d}" for n in range(devices)}
    registry = Registry(
        villages=tuple(Village(id=v, name=v, lat=11.0, lon=106.6) for v in sorted(villages)),
        devices=tuple(
            RegisteredDevice(
                id=f"bench-air-{n:03d}", village=f"v{n // 10:02d}", kind="air", name=f"bench {n}", lat=11.0, lon=106.6
            )
            for n in range(devices)
        ),
    )
    path.write_text(format_registry(registry))


def raw_request(device: str, every_ms: int, start_ms: int, stop_ms: int) -> dict[str, str]:
    """The exact form the API sends to InfluxDB for this request."""
    query = SeriesQuery(
        quantity=QUANTITIES["pm25"],
        agg="mean",
        every_ms=every_ms,
        start_ms=start_ms,
        stop_ms=stop_ms,
        zone=ZONE,
        fill="null",
        caller=PUBLIC,
        device=device,
    )
    conditions = query.conditions(start_ms, stop_ms)
    return query_form(raw_statement(query, conditions), database=DATABASE, params=query.params(conditions))


def measure(
    influx: httpx.Client,
    api: httpx.Client,
    *,
    devices: int,
    every: str,
    every_ms: int,
    requests: int,
    start_ms: int,
    stop_ms: int,
) -> dict[str, np.ndarray]:
    rng = random.Random(7)
    raw_s, api_s = [], []
    points = 0
    for round_number in range(requests + 10):
        device = f"bench-air-{rng.randrange(devices):03d}"
        form = raw_request(device, every_ms, start_ms, stop_ms)
        params = {"device": device, "quantity": "pm25", "every": every, "start": start_ms, "stop": stop_ms}
        order = ("raw", "api") if round_number % 2 else ("api", "raw")
        for which in order:
            began = time.perf_counter()
            if which == "raw":
                response = influx.post("/query", data=form)
                response.raise_for_status()
                orjson.loads(response.content)  # each client parses its answer the same way
            else:
                response = api.get("/api/v1/series", params=params)
                response.raise_for_status()
                points = len(orjson.loads(response.content)["series"][0]["points"])
            elapsed = time.perf_counter() - began
            if round_number >= 10:  # the first rounds warm caches and connections
                (raw_s if which == "raw" else api_s).append(elapsed)
    print(f"  {every} buckets: {points} points per answer")
    return {"raw": np.array(raw_s) * 1000, "api": np.array(api_s) * 1000}


def report(name: str, ms: dict[str, np.ndarray]) -> None:
    raw50, raw99 = np.percentile(ms["raw"], [50, 99])
    api50, api99 = np.percentile(ms["api"], [50, 99])
    print(f"| {name} | {raw50:.1f} | {raw99:.1f} | {api50:.1f} | {api99:.1f} | {api50 / raw50:.2f}x |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--devices", type=int, default=100)
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-api-") as workdir:
        database = start_influxd(Path(workdir) / "influxdb")
        api_process = None
        try:
            with httpx.Client(base_url=database.url, timeout=120) as influx:
                end_ms = time.time_ns() // 1_000_000 // MINUTE_MS * MINUTE_MS
                began = time.perf_counter()
                written = fill(influx, devices=args.devices, days=args.days, end_ms=end_ms)
                print(
                    f"wrote {written:,} samples ({args.devices} devices x {args.days} days x 1/min) "
                    f"in {time.perf_counter() - began:.0f} s"
                )
                write_registry(Path(workdir) / "registry.toml", devices=args.devices)
                port = free_port()
                env = child_environment(
                    VILLAGE_INFLUX_URL=database.url,
                    VILLAGE_INFLUX_DB=DATABASE,
                    VILLAGE_DATA_DIR=workdir,
                    VILLAGE_API_PUBLIC_READ="1",
                )
                api_process = spawn(
                    "api",
                    [sys.executable, "-m", "village", "api", "--port", str(port)],
                    log_path=Path(workdir) / "api.log",
                    env=env,
                )
                wait_until(lambda: _healthy(port), timeout_s=30, what="API", process=api_process)
                headers = {"Accept-Encoding": "identity"}
                with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60, headers=headers) as api:
                    influx.headers.update(headers)
                    start_ms = end_ms - args.days * 24 * 60 * MINUTE_MS
                    results = {
                        f"one device-week, every={every}": measure(
                            influx,
                            api,
                            devices=args.devices,
                            every=every,
                            every_ms=every_ms,
                            requests=args.requests,
                            start_ms=start_ms,
                            stop_ms=end_ms,
                        )
                        for every, every_ms in (("1m", MINUTE_MS), ("1h", 60 * MINUTE_MS))
                    }
            print(f"\n{args.requests} requests per scenario, loopback, no compression")
            print("| scenario | raw p50 ms | raw p99 ms | API p50 ms | API p99 ms | API/raw p50 |")
            print("|---|---|---|---|---|---|")
            for name, ms in results.items():
                report(name, ms)
        finally:
            if api_process is not None:
                api_process.stop()
            database.process.stop()
    return 0


def _healthy(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


if __name__ == "__main__":
    raise SystemExit(main())
