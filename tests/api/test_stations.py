"""`/stations` is RFC 7946 GeoJSON with [lon, lat] coordinates and each station's latest readings."""

from __future__ import annotations

import math

import httpx
import orjson

from tests.api.conftest import GHOST, Dataset

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
