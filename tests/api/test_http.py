"""HTTP manners: ETag and 304, Cache-Control, gzip, CORS, stable errors for unknown routes, complete OpenAPI."""

from __future__ import annotations

import httpx

from tests.api.conftest import Dataset


def test_etag_and_not_modified(client: httpx.Client) -> None:
    first = client.get("/api/v1/devices/dau-tieng-water-01/latest")
    etag = first.headers["etag"]
    assert first.headers["cache-control"] == "private, max-age=30" and "Authorization" in first.headers["vary"]
    again = client.get("/api/v1/devices/dau-tieng-water-01/latest", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag


def test_settled_history_is_cached_longer(client: httpx.Client) -> None:
    old = client.get("/api/v1/series", params={"device": "dau-tieng-air-01", "quantity": "pm25", "stop": "now-7d"})
    assert old.headers["cache-control"] == "private, max-age=300"


def test_large_answers_are_gzipped(client: httpx.Client, dataset: Dataset) -> None:
    params = {"village": "dau-tieng", "quantity": "pm25", "every": "5m", "group_by": "device"}
    response = client.get("/api/v1/series", params=params, headers={"Accept-Encoding": "gzip"})
    assert response.headers["content-encoding"] == "gzip" and response.json()["series"]


def test_cors_for_configured_origins(public_url: str) -> None:
    origin = {"Origin": "https://map.example.org"}
    response = httpx.get(f"{public_url}/api/v1/villages", headers=origin)
    assert response.headers["access-control-allow-origin"] == "https://map.example.org"
    preflight = httpx.options(f"{public_url}/api/v1/series", headers={**origin, "Access-Control-Request-Method": "GET"})
    assert preflight.status_code == 200
    stranger = httpx.get(f"{public_url}/api/v1/villages", headers={"Origin": "https://elsewhere.example"})
    assert "access-control-allow-origin" not in stranger.headers


def test_unknown_routes_and_methods_use_the_error_shape(client: httpx.Client) -> None:
    missing = client.get("/api/v1/nothing-here")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    wrong = client.post("/api/v1/devices")
    assert wrong.status_code == 405 and wrong.json()["error"]["code"] == "method_not_allowed"


def test_openapi_documents_every_endpoint_with_examples_and_errors(public_url: str) -> None:
    spec = httpx.get(f"{public_url}/openapi.json").json()
    paths = spec["paths"]
    expected = {
        "/api/v1/villages",
        "/api/v1/devices",
        "/api/v1/devices/{device}/latest",
        "/api/v1/series",
        "/api/v1/villages/{village}/summary",
        "/api/v1/stations",
        "/healthz",
        "/metrics",
        "/api/v1/admin/tiers/{tier}/rebuild",
        "/api/v1/quantities",
    }
    assert set(paths) == expected
    assert "ErrorResponse" in spec["components"]["schemas"]
    assert spec["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    for path, operations in paths.items():
        operation = operations.get("get") or operations["post"]
        assert operation.get("description") or operation.get("summary"), path
        if path.startswith("/api/v1"):
            assert {"401", "403", "422", "503", "504"} <= set(operation["responses"]), path
            for parameter in operation.get("parameters", []):
                assert parameter.get("description") or parameter["schema"].get("description"), (path, parameter["name"])
    series_params = {p["name"]: p for p in paths["/api/v1/series"]["get"]["parameters"]}
    assert "pm25" in series_params["quantity"]["schema"]["enum"]
    assert {} in paths["/api/v1/series"]["get"]["security"]  # open data: the token is optional for reads
    assert {} not in paths["/api/v1/admin/tiers/{tier}/rebuild"]["post"]["security"]
    assert "application/geo+json" in paths["/api/v1/stations"]["get"]["responses"]["200"]["content"]


def test_the_data_dictionary_lists_every_quantity_with_labels_and_limits(client: httpx.Client) -> None:
    quantities = {q["name"]: q for q in client.get("/api/v1/quantities").json()["quantities"]}
    assert len(quantities) == 25
    pm25 = quantities["pm25"]
    assert (pm25["measurement"], pm25["unit"], pm25["label_vi"]) == ("air", "µg/m³", "Bụi PM2.5")
    assert (pm25["valid_min"], pm25["valid_max"], pm25["plausible_max"]) == (0, 1000, 500)
    assert quantities["turbidity"]["plausible_max"] is None  # no soft limit: null, never Infinity
