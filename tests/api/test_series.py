"""`/series` equals the same statistic computed with NumPy from what the boards sent, from raw data and tiers."""

from __future__ import annotations

import csv
import io
from types import SimpleNamespace

import httpx
import numpy as np
import pytest

from api.series import _whole_range
from tests.api.conftest import ADMIN_TOKEN, GHOST, PHU_AN_TOKEN, READ_ALL_TOKEN, Dataset, api_settings, bearer, serving
from tests.api.expected import buckets
from tests.helpers import influx_query, unique_id

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS


def points(answer: dict, device: str | None = None) -> dict[int, float | None]:
    series = [s for s in answer["series"] if device is None or s["device"] == device]
    assert len(series) == 1, answer["series"]
    return dict(series[0]["points"])


def assert_matches(got: dict[int, float | None], expected: dict[int, float]) -> None:
    assert {t: v for t, v in got.items() if v is not None} == pytest.approx(expected, rel=1e-9)


def a_day(dataset: Dataset) -> tuple[int, int]:
    """A 26-hour range inside the data, not aligned to hours (partial first and last buckets)."""
    start = dataset.first_ms + 7 * HOUR_MS + 17 * 60_000
    return start, start + 26 * HOUR_MS


@pytest.mark.parametrize("agg", ["mean", "min", "max", "sum", "count", "median", "p95", "last"])
def test_device_hourly_buckets_equal_numpy(client: httpx.Client, dataset: Dataset, agg: str) -> None:
    start, stop = a_day(dataset)
    answer = client.get(
        "/api/v1/series",
        params={
            "device": "dau-tieng-air-01",
            "quantity": "pm25",
            "every": "1h",
            "agg": agg,
            "start": start,
            "stop": stop,
        },
    ).json()
    t, v = dataset.values("pm25", device="dau-tieng-air-01")
    assert answer["tier"] == "raw" and answer["unit"] == "µg/m³" and answer["every"] == "1h"
    expected = buckets(t, v, start_ms=start, stop_ms=stop, every_ms=HOUR_MS, agg=agg)
    got = points(answer)
    if agg == "count":  # InfluxQL counts an empty bucket 0; `buckets` lists only buckets with samples
        got = {ts: n for ts, n in got.items() if n != 0 or ts in expected}
    assert_matches(got, expected)


@pytest.mark.parametrize(("every", "every_ms"), [("15m", 15 * 60_000), ("1d", DAY_MS)])
def test_village_aggregate_covers_every_device_of_the_village(
    client: httpx.Client, dataset: Dataset, every: str, every_ms: int
) -> None:
    start, stop = dataset.first_ms, dataset.last_ms + 1
    answer = client.get(
        "/api/v1/series",
        params={"village": "dau-tieng", "quantity": "pm10", "every": every, "start": start, "stop": stop},
    ).json()
    t, v = dataset.values("pm10", village="dau-tieng")
    assert answer["series"][0]["device"] is None and answer["series"][0]["village"] == "dau-tieng"
    assert_matches(points(answer), buckets(t, v, start_ms=start, stop_ms=stop, every_ms=every_ms, agg="mean"))


def test_group_by_device_gives_one_series_per_device_including_unregistered(
    client: httpx.Client, dataset: Dataset
) -> None:
    start, stop = a_day(dataset)
    answer = client.get(
        "/api/v1/series",
        params={
            "village": "dau-tieng",
            "quantity": "pm25",
            "every": "6h",
            "agg": "max",
            "group_by": "device",
            "start": start,
            "stop": stop,
        },
    ).json()
    assert {(s["device"], s["registered"]) for s in answer["series"]} == {("dau-tieng-air-01", True), (GHOST, False)}
    for device in ("dau-tieng-air-01", GHOST):
        t, v = dataset.values("pm25", device=device)
        assert_matches(
            points(answer, device), buckets(t, v, start_ms=start, stop_ms=stop, every_ms=6 * HOUR_MS, agg="max")
        )


def test_fill_policies_for_empty_buckets(client: httpx.Client, dataset: Dataset) -> None:
    start = dataset.first_ms - dataset.first_ms % HOUR_MS - 3 * HOUR_MS  # three empty hours before the data
    stop = start + 6 * HOUR_MS
    base = {"device": "an-tay-water-01", "quantity": "ph", "every": "1h", "start": start, "stop": stop}
    by_fill = {
        f: points(client.get("/api/v1/series", params={**base, "fill": f}).json()) for f in ("null", "none", "zero")
    }
    empty = [start, start + HOUR_MS, start + 2 * HOUR_MS]
    assert [by_fill["null"][t] for t in empty] == [None, None, None]
    assert not set(empty) & set(by_fill["none"])
    assert [by_fill["zero"][t] for t in empty] == [0, 0, 0]
    assert len(by_fill["none"]) == 3 and all(v is not None for v in by_fill["none"].values())
    counts = points(client.get("/api/v1/series", params={**base, "agg": "count"}).json())
    assert [counts[t] for t in empty] == [0, 0, 0]


def test_csv_round_trips_to_the_json_answer(client: httpx.Client, dataset: Dataset) -> None:
    start, stop = a_day(dataset)
    params = {
        "village": "an-tay",
        "quantity": "soil_moisture",
        "every": "30m",
        "start": start,
        "stop": stop,
        "group_by": "device",
    }
    answer = client.get("/api/v1/series", params=params).json()
    response = client.get("/api/v1/series", params=params, headers={"Accept": "text/csv"})
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert rows and rows == list(
        csv.DictReader(io.StringIO(client.get("/api/v1/series", params={**params, "format": "csv"}).text))
    )
    from_csv = {(r["device"], int(r["ts_ms"])): float(r["value"]) if r["value"] else None for r in rows}
    from_json = {(s["device"], t): v for s in answer["series"] for t, v in s["points"]}
    assert from_csv == from_json
    assert {r["unit"] for r in rows} == {"% VWC"} and rows[0]["time"].endswith("Z")


def test_long_ranges_read_the_hourly_tier_once_it_holds_the_history(
    client: httpx.Client, dataset: Dataset, api_url: str
) -> None:
    start, stop = dataset.first_ms - 6 * DAY_MS + 90 * 60_000, dataset.last_ms + 1  # 9 days, unaligned ends
    base = {"device": "an-tay-air-01", "quantity": "pm25", "every": "1d", "start": start, "stop": stop}
    t, v = dataset.values("pm25", device="an-tay-air-01")
    before = client.get("/api/v1/series", params=base).json()
    assert before["tier"] == "raw" and before["tier_note"].startswith("the hourly tier")  # CQs skip old history
    rebuilt = httpx.post(  # the documented command: rebuild the tier for the history the CQs never saw
        f"{api_url}/api/v1/admin/tiers/hourly/rebuild",
        params={"start": dataset.first_ms, "stop": dataset.last_ms - dataset.last_ms % HOUR_MS},
        headers=bearer(ADMIN_TOKEN),
        timeout=60,
    )
    assert rebuilt.status_code == 200, rebuilt.text
    assert rebuilt.json()["points_written"] >= 7 * 3 * 24  # at least every board, every hour of three days
    for agg in ("mean", "min", "max", "count", "sum"):
        answer = client.get("/api/v1/series", params={**base, "agg": agg}).json()
        assert answer["tier"] == "hourly", answer["tier_note"]
        assert [s["tier"] for s in answer["sources"]] == ["raw", "hourly", "raw"]
        got = {t: v for t, v in points(answer).items() if not (agg == "count" and v == 0)}  # empty days count 0
        assert_matches(got, buckets(t, v, start_ms=start, stop_ms=stop, every_ms=DAY_MS, agg=agg))
    forced_raw = client.get("/api/v1/series", params={**base, "tier": "raw"}).json()
    assert forced_raw["tier"] == "raw" and forced_raw["tier_note"] is None
    stitched = points(client.get("/api/v1/series", params=base).json())
    assert set(points(forced_raw)) == set(stitched)
    assert_matches(points(forced_raw), {t: v for t, v in stitched.items() if v is not None})


def test_a_tier_that_cannot_answer_exactly_is_refused(client: httpx.Client, dataset: Dataset) -> None:
    start, stop = dataset.first_ms, dataset.last_ms
    response = client.get(
        "/api/v1/series",
        params={
            "device": "an-tay-air-01",
            "quantity": "pm25",
            "every": "1d",
            "agg": "p95",
            "tier": "hourly",
            "start": start,
            "stop": stop,
        },
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "tier_not_applicable"


def test_scoped_token_reads_its_village_only(api_url: str) -> None:
    with httpx.Client(base_url=api_url, headers=bearer(PHU_AN_TOKEN)) as officer:
        own = officer.get("/api/v1/series", params={"village": "dau-tieng", "quantity": "pm25"})
        other = officer.get("/api/v1/series", params={"village": "an-tay", "quantity": "pm25"})
        other_device = officer.get("/api/v1/series", params={"device": "an-tay-air-01", "quantity": "pm25"})
    assert own.status_code == 200 and own.json()["series"]
    assert other.status_code == 403 and other.json()["error"]["code"] == "forbidden"
    assert other_device.status_code == 403


def test_a_database_without_tiers_is_read_raw(dataset: Dataset) -> None:
    database = unique_id("notiers").replace("-", "_")
    influx_query(dataset.influx_url, database, f'CREATE DATABASE "{database}"')
    line = f"water,village=dau-tieng,device=dau-tieng-water-01 ph=7.25 {dataset.last_ms}"
    httpx.post(
        f"{dataset.influx_url}/write", params={"db": database, "precision": "ms"}, content=line
    ).raise_for_status()
    with serving(api_settings(dataset, influx_db=database)) as url:
        answer = httpx.get(
            f"{url}/api/v1/series",
            params={
                "device": "dau-tieng-water-01",
                "quantity": "ph",
                "every": "1d",
                "start": "now-30d",
                "tier": "hourly",
            },
            headers=bearer(READ_ALL_TOKEN),
        ).json()
    assert answer["tier"] == "raw" and "no hourly tier" in answer["tier_note"]
    assert [v for _, v in answer["series"][0]["points"] if v is not None] == [7.25]


def test_rebuilding_a_tier_needs_an_admin_token_for_every_village(api_url: str) -> None:
    url = f"{api_url}/api/v1/admin/tiers/hourly/rebuild"
    assert httpx.post(url, params={"start": "now-1d"}).status_code == 401
    for token in (READ_ALL_TOKEN, PHU_AN_TOKEN):
        response = httpx.post(url, params={"start": "now-1d"}, headers=bearer(token))
        assert response.status_code == 403 and response.json()["error"]["code"] == "admin_required"
    too_long = httpx.post(url, params={"start": "now-200d"}, headers=bearer(ADMIN_TOKEN))
    assert too_long.status_code == 422 and too_long.json()["error"]["code"] == "invalid_range"


def test_a_stitched_answer_keeps_the_empty_buckets_at_both_ends_of_the_range() -> None:
    """A raw head or tail without a single point comes back from InfluxDB as no series at all: the buckets that
    hold the ends of the range are added empty, as one query over the whole range gives them (found when the
    range started in the last hour before a local midnight)."""
    every = 86_400_000
    query = SimpleNamespace(start_ms=10 * every - 600_000, stop_ms=14 * every + 5, every_ms=every)
    times, values = _whole_range(np.array([10 * every, 11 * every]), np.array([1.0, 2.0]), query)  # type: ignore[arg-type]
    assert times.tolist() == [9 * every, 10 * every, 11 * every, 12 * every, 13 * every, 14 * every]
    assert np.isnan(values[[0, 3, 4, 5]]).all() and values[1:3].tolist() == [1.0, 2.0]
