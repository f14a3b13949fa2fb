"""`/villages/{id}/summary`: statistics, indices and QCVN status equal what NumPy computes from the ground truth."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import httpx
import numpy as np
import pytest

from api.aqi import epa_aqi, epa_nowcast, vn_aqi, vn_nowcast
from tests.api.conftest import GHOST, PHU_AN_TOKEN, Dataset, bearer
from tests.api.expected import VN, nearest_rank

HOUR_MS = 3_600_000


@pytest.fixture(scope="module")
def summary(client: httpx.Client, dataset: Dataset) -> dict:
    response = client.get("/api/v1/villages/dau-tieng/summary", params={"window": "24h", "stop": dataset.last_ms + 1})
    assert response.status_code == 200, response.text
    return response.json()


def test_statistics_per_quantity(summary: dict, dataset: Dataset) -> None:
    stop = dataset.last_ms + 1
    for quantity in ("pm25", "ph", "soil_moisture", "bat"):
        t, v = dataset.values(quantity, village="dau-tieng")
        v = v[(t >= stop - 24 * HOUR_MS) & (t < stop)]
        got = summary["quantities"][quantity]
        assert got["count"] == len(v)
        assert (got["min"], got["max"], got["p95"]) == (v.min(), v.max(), nearest_rank(v, 95))
        assert got["mean"] == pytest.approx(float(np.mean(v)), rel=1e-9)
    assert "salinity" not in summary["quantities"]  # no board measures it


def hourly_means(dataset: Dataset, device: str, quantity: str, hour_stop_ms: int) -> list[float | None]:
    t, v = dataset.values(quantity, device=device)
    means: list[float | None] = []
    for k in range(1, 13):  # c1 = the last complete hour
        inside = (t >= hour_stop_ms - k * HOUR_MS) & (t < hour_stop_ms - (k - 1) * HOUR_MS)
        means.append(float(np.mean(v[inside])) if inside.any() else None)
    return means


def local_day(stop_ms: int) -> tuple[int, int, str]:
    midnight = datetime.fromtimestamp(stop_ms / 1000, tz=VN).replace(hour=0, minute=0, second=0, microsecond=0)
    start = midnight - timedelta(days=1)
    return int(start.timestamp() * 1000), int(midnight.timestamp() * 1000), start.date().isoformat()


def test_indices_per_station_from_hourly_and_daily_means(summary: dict, dataset: Dataset) -> None:
    stop = dataset.last_ms + 1
    hour_stop = stop - stop % HOUR_MS
    day_start, day_stop, day = local_day(stop)
    stations = {s["device"]: s for s in summary["air_quality"]["stations"]}
    assert set(stations) == {"dau-tieng-air-01", GHOST}
    for device, station in stations.items():
        nowcast = {pm: vn_nowcast(hourly_means(dataset, device, pm, hour_stop)) for pm in ("pm25", "pm10")}
        epa_now = {pm: epa_nowcast(hourly_means(dataset, device, pm, hour_stop)) for pm in ("pm25", "pm10")}
        daily = {}
        for pm in ("pm25", "pm10"):
            t, v = dataset.values(pm, device=device)
            daily[pm] = float(np.mean(v[(t >= day_start) & (t < day_stop)]))
        assert station["nowcast"] == pytest.approx({pm: round(c, 2) for pm, c in nowcast.items()})
        assert station["vn_aqi"]["hourly"]["value"] == vn_aqi(nowcast).value
        assert station["vn_aqi"]["daily"]["value"] == vn_aqi(daily).value
        assert station["vn_aqi"]["daily"]["day"] == day
        assert station["us_epa_aqi"]["hourly"]["value"] == epa_aqi(epa_now).value
        assert station["us_epa_aqi"]["daily"]["value"] == epa_aqi(daily).value
    village = summary["air_quality"]["vn_aqi"]
    assert village["indicative"] is True and "1459" in village["method"]
    assert village["hourly"]["value"] == max(s["vn_aqi"]["hourly"]["value"] for s in stations.values())
    assert "EPA" in summary["air_quality"]["us_epa_aqi"]["method"]


def test_qcvn_status(summary: dict, dataset: Dataset) -> None:
    entries = {(e["regulation"], e["quantity"]): e for e in summary["compliance"]}
    _, _, day = local_day(dataset.last_ms + 1)
    pm25 = entries[("QCVN 05:2023/BTNMT", "pm25")]
    assert pm25["limit"] == {"high": 45 if date.fromisoformat(day) >= date(2026, 1, 1) else 50}
    daily_means = {s["device"]: s["daily_mean"]["pm25"] for s in summary["air_quality"]["stations"]}
    assert pm25["value"] == max(daily_means.values()) and pm25["status"] == "compliant"
    t, v = dataset.values("turbidity", village="dau-tieng")
    stop = dataset.last_ms + 1
    turbidity = entries[("QCVN 01-1:2018/BYT", "turbidity")]
    mean = float(np.mean(v[(t >= stop - 24 * HOUR_MS) & (t < stop)]))
    assert turbidity["value"] == pytest.approx(mean, abs=1e-3) and turbidity["status"] == "exceeds"
    assert entries[("QCVN 01-1:2018/BYT", "ph")]["status"] == "compliant"
    for quantity in ("ph", "do"):
        t, v = dataset.values(quantity, village="dau-tieng")
        mean = float(np.mean(v[(t >= stop - 24 * HOUR_MS) & (t < stop)]))
        assert entries[("QCVN 08:2023/BTNMT", quantity)]["class"] == qcvn08_river_class(quantity, mean), mean


def qcvn08_river_class(quantity: str, mean: float) -> str:
    """QCVN 08:2023/BTNMT Bảng 2 (rivers, streams, canals): the best class whose range admits the mean."""
    ranges = {
        "ph": (("A", 6.5, 8.5), ("B", 6.0, 8.5), ("C", 6.0, 8.5)),
        "do": (("A", 6.0, float("inf")), ("B", 5.0, float("inf")), ("C", 4.0, float("inf"))),
    }[quantity]
    return next((name for name, low, high in ranges if low <= mean <= high), "D")


def test_a_village_outside_the_token_scope_is_403_and_an_unknown_one_404(api_url: str, client: httpx.Client) -> None:
    with httpx.Client(base_url=api_url, headers=bearer(PHU_AN_TOKEN)) as officer:
        assert officer.get("/api/v1/villages/dau-tieng/summary").status_code == 200
        assert officer.get("/api/v1/villages/an-tay/summary").status_code == 403
    missing = client.get("/api/v1/villages/nowhere/summary")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "village_not_found"
