"""VN_AQI computed by InfluxDB from the dashboards' expression matches QĐ 1459's worked examples and formula."""

from __future__ import annotations

import httpx
import numpy as np
import pytest

from dashboards.aqi import evaluate
from dashboards.boards.overview import aqi_select
from devices.standards import VN_AQI_BREAKPOINTS, VN_AQI_INDEX
from tests.helpers import influx_query

NOW_MS = 1_764_489_600_000


def reference(quantity: str, concentration: float) -> float:
    """QĐ 1459 Công thức 1, written the way the decision does: find the band, interpolate linearly."""
    breakpoints = VN_AQI_BREAKPOINTS[quantity]
    if concentration >= breakpoints[-1]:
        return VN_AQI_INDEX[-1]
    i = max(j for j in range(len(breakpoints) - 1) if breakpoints[j] <= concentration)
    slope = (VN_AQI_INDEX[i + 1] - VN_AQI_INDEX[i]) / (breakpoints[i + 1] - breakpoints[i])
    return slope * (concentration - breakpoints[i]) + VN_AQI_INDEX[i]


def influx_aqi(url: str, database: str, pairs: list[tuple[float, float]]) -> list[float]:
    """Write one (pm25, pm10) reading per device and let InfluxDB compute each device's VN_AQI."""
    httpx.post(f"{url}/query", data={"q": f'CREATE DATABASE "{database}"'}).raise_for_status()
    lines = "\n".join(
        f"air,village=v,device=d{i:03d} pm25={pm25},pm10={pm10} {NOW_MS}" for i, (pm25, pm10) in enumerate(pairs)
    )
    httpx.post(f"{url}/write", params={"db": database, "precision": "ms"}, content=lines).raise_for_status()
    query = f'SELECT {aqi_select()} FROM "air" GROUP BY "device"'
    series = influx_query(url, database, query)[0]
    return [s.values[0][1] for s in sorted(series, key=lambda s: s.tags["device"])]


def test_the_decisions_daily_example_gives_110(influxdb, database_name) -> None:
    # QĐ 1459 example 3: PM2.5 24-h mean 55.7 µg/m³ → AQI 109.5, shown as 110 (the stat rounds to 0 decimals).
    (aqi,) = influx_aqi(influxdb.url, database_name, [(55.7, 0.0)])
    assert aqi == pytest.approx(109.5, abs=1e-9)
    assert round(aqi) == 110


def test_influxdb_agrees_with_the_formula_across_every_band(influxdb, database_name) -> None:
    rng = np.random.default_rng(7)
    pm25 = [*VN_AQI_BREAKPOINTS["pm25"], *rng.uniform(0, 700, 40).round(1)]
    pm10 = [*rng.uniform(0, 150, len(VN_AQI_BREAKPOINTS["pm25"])).round(1), *rng.uniform(0, 800, 40).round(1)]
    pairs = list(zip(pm25, pm10, strict=True))
    got = influx_aqi(influxdb.url, database_name, pairs)
    expected = [max(reference("pm25", a), reference("pm10", b)) for a, b in pairs]
    assert got == pytest.approx(expected, abs=1e-9)
    assert max(got) == pytest.approx(500)  # capped past the last breakpoint, as the decision leaves it undefined


def test_python_evaluation_matches_the_reference() -> None:
    assert evaluate("pm25", 20.3) == pytest.approx(40.6)  # example 2: Nowcast 20.3 → AQI 41
    assert evaluate("pm25", 35.4) == pytest.approx(70.8)
    for c in np.linspace(0, 650, 131):
        assert evaluate("pm10", float(c)) == pytest.approx(reference("pm10", float(c)))
