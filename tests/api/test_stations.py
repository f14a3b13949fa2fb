"""`/stations` is RFC 7946 GeoJSON with [lon, lat] coordinates and each station's latest readings."""

from __future__ import annotations

import math

import httpx
import orjson

from api.aqi import vn_aqi, vn_nowcast
from tests.api.conftest import GHOST, READ_ALL_TOKEN, Dataset, api_settings, bearer, serving
from tests.api.test_summary import HOUR_MS, hourly_means

RFC7946_MEMBERS = {"type", "features", "units"}


def test_stations_are_valid_geojson_in_lon_lat_order(client: httpx.Client, dataset: Dataset) -> None:
    response = client.get("/api/v1/stations")
    assert response.headers["content-type"] == "application/geo+json"
    collection = orjson.loads(response.content)  # orjson refuses NaN/Infinity, which GeoJSON forbids
    assert collection["type"] == "FeatureCollection" and set(collection) == RFC7946_MEMBERS and "crs" not in collection
    features = {f["id"]: f for f in collection["features"]}
    assert set(features) == {d.id for d in dataset.registry.devices} | {GHOST}
    for entry in dataset.registry.devices:
        feature = features[entry.id]
        assert feature["type"] == "Feature" and set(feature) == {"type", "id", "geometry", "properties"}
        geometry = feature["geometry"]
        assert geometry["type"] == "Point" and geometry["coordinates"] == [entry.lon, entry.lat]
        lon, lat = geometry["coordinates"]
        assert 102 < lon < 110 and 8 < lat < 24  # Vietnam: a swapped pair would fail here
        properties = feature["properties"]
        assert properties["village"] == entry.village and properties["registered"] is True
        assert properties["status"] == "online" and properties["kind"] == entry.kind
        assert all(not isinstance(v, dict | list) for v in properties.values())  # flat columns for QGIS
    ghost = features[GHOST]
    assert ghost["geometry"] is None and ghost["properties"]["registered"] is False


def test_station_properties_carry_the_latest_readings(client: httpx.Client, dataset: Dataset) -> None:
    collection = client.get("/api/v1/stations", params={"kind": "water"}).json()
    assert {f["properties"]["kind"] for f in collection["features"]} == {"water"}
    for feature in collection["features"]:
        last = max((s for s in dataset.sent if s.device == feature["id"]), key=lambda s: s.ts_ms)
        properties = feature["properties"]
        for quantity in ("ph", "turbidity", "do"):
            assert math.isclose(properties[quantity], last.values[quantity])
        assert properties["battery_v"] == last.values["bat"] and properties["last_seen_ms"] == last.ts_ms
    assert collection["units"]["ph"] == "pH" and collection["units"]["pm25"] == "µg/m³"


def test_stations_of_one_village(client: httpx.Client) -> None:
    collection = client.get("/api/v1/stations", params={"village": "an-tay"}).json()
    assert {f["properties"]["village"] for f in collection["features"]} == {"an-tay"}
    assert len(collection["features"]) == 3


def test_air_stations_carry_their_hourly_index_and_water_stations_their_qcvn_status(dataset: Dataset) -> None:
    now_ms = dataset.last_ms + 1
    hour_stop = now_ms - now_ms % HOUR_MS
    with serving(api_settings(dataset), clock_ms=lambda: now_ms) as url:
        collection = httpx.get(f"{url}/api/v1/stations", headers=bearer(READ_ALL_TOKEN)).json()
    features = {f["id"]: f["properties"] for f in collection["features"]}
    for device in ("dau-tieng-air-01", "an-tay-air-01", GHOST):
        nowcast = {pm: vn_nowcast(hourly_means(dataset, device, pm, hour_stop)) for pm in ("pm25", "pm10")}
        expected = vn_aqi({pm: c for pm, c in nowcast.items() if c is not None})
        assert expected is not None
        properties = features[device]
        assert properties["vn_aqi"] == expected.value
        assert (properties["vn_aqi_category"], properties["vn_aqi_color"]) == (
            expected.category.label_vi,
            expected.category.hex,
        )
        assert isinstance(properties["us_epa_aqi"], int)
    for device in ("dau-tieng-water-01", "an-tay-water-01"):
        last = max((s for s in dataset.sent if s.device == device), key=lambda s: s.ts_ms).values
        compliant = 6.0 <= last["ph"] <= 8.5 and last["turbidity"] <= 2
        assert features[device]["qcvn_01_1_2018"] == ("compliant" if compliant else "exceeds")
    assert "vn_aqi" not in features["dau-tieng-agri-01"] and "qcvn_01_1_2018" not in features["dau-tieng-agri-01"]
