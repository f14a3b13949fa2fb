"""Tokens: 401 without a valid one, 403 outside its villages or scope, open data when enabled; never logged."""

from __future__ import annotations

import logging

import httpx
import pytest

from api.settings import ApiSettings
from tests.api.conftest import ADMIN_TOKEN, PHU_AN_TOKEN, READ_ALL_TOKEN, Dataset, api_settings, bearer


def test_no_token_is_401_with_a_challenge(api_url: str) -> None:
    response = httpx.get(f"{api_url}/api/v1/devices")
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.json()["error"]["code"] == "missing_token"


def test_an_unknown_token_is_401_even_when_reads_are_public(api_url: str, public_url: str) -> None:
    for url in (api_url, public_url):
        response = httpx.get(f"{url}/api/v1/villages", headers=bearer("not-a-configured-token-at-all"))
        assert response.status_code == 401 and response.json()["error"]["code"] == "invalid_token"


def test_a_village_token_sees_only_its_village(api_url: str) -> None:
    with httpx.Client(base_url=api_url, headers=bearer(PHU_AN_TOKEN)) as officer:
        assert {v["id"] for v in officer.get("/api/v1/villages").json()["villages"]} == {"dau-tieng"}
        assert {d["village"] for d in officer.get("/api/v1/devices").json()["devices"]} == {"dau-tieng"}
        assert {f["properties"]["village"] for f in officer.get("/api/v1/stations").json()["features"]} == {"dau-tieng"}
        assert officer.get("/api/v1/devices/dau-tieng-water-01/latest").status_code == 200
        for path in (
            "/api/v1/devices/an-tay-water-01/latest",
            "/api/v1/devices?village=an-tay",
            "/api/v1/stations?village=an-tay",
            "/api/v1/villages/an-tay/summary",
        ):
            response = officer.get(path)
            assert response.status_code == 403, path
            assert response.json()["error"]["code"] == "forbidden"


def test_metrics_need_the_admin_scope_unless_reads_are_public(api_url: str, public_url: str) -> None:
    denied = httpx.get(f"{api_url}/metrics", headers=bearer(READ_ALL_TOKEN))
    assert denied.status_code == 403 and denied.json()["error"]["code"] == "admin_required"
    assert httpx.get(f"{api_url}/metrics").status_code == 401
    metrics = httpx.get(f"{api_url}/metrics", headers=bearer(ADMIN_TOKEN))
    assert metrics.status_code == 200 and metrics.headers["content-type"].startswith("text/plain")
    assert 'village_api_requests_total{method="GET",route="/metrics",status="403"}' in metrics.text
    assert "village_api_influx_query_duration_seconds_count" in metrics.text
    assert httpx.get(f"{public_url}/metrics").status_code == 200


def test_public_read_needs_no_token(public_url: str) -> None:
    response = httpx.get(f"{public_url}/api/v1/devices")
    assert response.status_code == 200 and response.json()["count"] == 7
    assert response.headers["cache-control"].startswith("public")


def test_tokens_never_reach_the_logs(api_url: str, dataset: Dataset, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    for token in (ADMIN_TOKEN, PHU_AN_TOKEN, "wrong-token-0123456789-secret"):
        httpx.get(f"{api_url}/api/v1/villages", headers=bearer(token))
    settings = api_settings(dataset)
    logging.getLogger("tests").info("settings: %r %s", settings, settings.api_tokens)
    assert "refused a request with an unknown bearer token" in caplog.text
    for token in (ADMIN_TOKEN, PHU_AN_TOKEN, "wrong-token-0123456789-secret"):
        assert token not in caplog.text


def test_bare_string_tokens_read_everything(dataset: Dataset) -> None:
    settings = ApiSettings(_env_file=None, api_tokens=["0123456789abcdef-bare"])  # type: ignore[call-arg]
    grant = settings.api_tokens[0]
    assert (grant.scope, grant.villages, grant.name) == ("read", ("*",), "token")
