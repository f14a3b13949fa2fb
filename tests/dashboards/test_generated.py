"""The generated provisioning files: fresh, consistent with the schema, and complete for an officer's screen."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from datetime import date
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
import yaml

from dashboards import provisioning
from dashboards.cli import today
from dashboards.datasources import EXPRESSION_UID, INFLUX_UID, PROVISIONED_UIDS, STATIONS_TYPE
from dashboards.stations import COLUMNS, load_registry
from dashboards.versions import GRAFANA_IMAGE, GRAFANA_VERSION, SDK_DISTRIBUTION, SDK_GRAFANA_MINOR
from devices.registry import format_registry
from devices.schema import MEASUREMENTS
from simulators.scenario import load_scenario, registry_of

ROOT = provisioning.PROVISIONING_DIR
MIXED = "-- Mixed --"


def dashboards() -> list[dict[str, Any]]:
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted((ROOT / "dashboards").glob("*.json"))]


def rules() -> list[dict[str, Any]]:
    data = yaml.safe_load((ROOT / "alerting" / "rules.yaml").read_text(encoding="utf-8"))
    return [rule for group in data["groups"] for rule in group["rules"]]


def panels() -> Iterator[tuple[str, dict[str, Any]]]:
    for dashboard in dashboards():
        for panel in dashboard["panels"]:
            if panel["type"] != "row":
                yield dashboard["uid"], panel


def influxql() -> Iterator[tuple[str, str]]:
    """(where, query) of every InfluxQL text: panel targets, variables and alert rules."""
    for dashboard in dashboards():
        for variable in dashboard["templating"].get("list", []):
            yield f"{dashboard['uid']} ${variable['name']}", variable["query"]
    for uid, panel in panels():
        for target in panel.get("targets", []):
            if target["datasource"]["type"] == "influxdb":
                yield f"{uid} {panel['title']}", target["query"]
    for rule in rules():
        for item in rule["data"]:
            if item["datasourceUid"] == INFLUX_UID:
                yield f"rule {rule['title']}", item["model"]["query"]


def test_committed_files_are_what_the_code_generates() -> None:
    built = provisioning.build(load_registry(), today=today())
    assert provisioning.stale(built.files) == [], "run `village dashboards build` and commit the result"


def test_the_six_dashboards_and_five_rules_are_there() -> None:
    titles = {d["title"] for d in dashboards()}
    assert titles == {"Tổng quan xã", "Không khí", "Nước", "Nông nghiệp", "Tình trạng thiết bị", "Đường ống dữ liệu"}
    assert len(rules()) == 5
    assert len({r["uid"] for r in rules()}) == 5


def test_panel_ids_are_unique_within_each_dashboard() -> None:
    for dashboard in dashboards():
        ids = [p["id"] for p in dashboard["panels"]]
        assert all(isinstance(i, int) for i in ids)
        assert len(ids) == len(set(ids)), dashboard["uid"]


def test_every_panel_target_variable_and_rule_names_a_provisioned_datasource_uid() -> None:
    for uid, panel in panels():
        assert panel["datasource"]["uid"] in PROVISIONED_UIDS | {MIXED}, (uid, panel["title"])
        assert panel["targets"], (uid, panel["title"])
        for target in panel["targets"]:
            assert target["datasource"]["uid"] in PROVISIONED_UIDS, (uid, panel["title"])
    for dashboard in dashboards():
        for variable in dashboard["templating"]["list"]:
            assert variable["datasource"]["uid"] == INFLUX_UID
    for rule in rules():
        for item in rule["data"]:
            assert item["datasourceUid"] in {INFLUX_UID, EXPRESSION_UID}
            assert item["model"]["datasource"]["uid"] == item["datasourceUid"]


def test_every_measurement_tag_and_field_a_query_names_is_in_the_schema() -> None:
    checked = 0
    for where, query in influxql():
        measurements = re.findall(r'FROM "([^"]+)"', query)
        assert measurements or query.startswith("SHOW TAG VALUES WITH KEY"), (where, query)
        assert set(measurements) <= set(MEASUREMENTS), (where, measurements)
        scope = measurements or list(MEASUREMENTS)  # SHOW TAG VALUES without FROM spans every measurement
        known = {name for m in scope for name in (*MEASUREMENTS[m].tags, *MEASUREMENTS[m].fields)}
        aliases = set(re.findall(r'AS "([^"]+)"', query))
        names = set(re.findall(r'"([^"]+)"', query)) - set(measurements) - aliases
        assert names <= known, (where, names - known)
        assert not re.search(r"\b(SELECT|BY|,)\s+[a-z_]+\b(?!\()", query.replace("time(", "")), (where, query)
        checked += 1
    assert checked > 60


def test_every_panel_has_a_unit_thresholds_a_vietnamese_title_and_an_english_description() -> None:
    for uid, panel in panels():
        defaults = panel["fieldConfig"]["defaults"]
        where = (uid, panel["title"])
        assert defaults.get("unit"), where
        steps = defaults["thresholds"]["steps"]
        assert steps[0]["value"] is None and steps[0]["color"], where
        assert re.search(r"[À-ỹ]", panel["title"]), where  # Vietnamese letters with diacritics
        assert re.search(r"\b(the|of|per|each|in)\b", panel["description"]), where


def test_the_station_map_reads_lat_lon_of_every_registered_station() -> None:
    (overview,) = [d for d in dashboards() if d["uid"] == "village-overview"]
    (geomap,) = [p for p in overview["panels"] if p["type"] == "geomap"]
    for layer in geomap["options"]["layers"]:
        assert layer["location"] == {"mode": "coords", "latitude": "lat", "longitude": "lon"}
    (stations,) = [t for t in geomap["targets"] if t["datasource"]["type"] == STATIONS_TYPE]
    rows = list(csv.DictReader(io.StringIO(stations["csvContent"])))
    assert tuple(rows[0]) == COLUMNS
    registry = load_registry()
    assert {r["device"]: (float(r["lat"]), float(r["lon"])) for r in rows} == {
        d.id: (d.lat, d.lon) for d in registry.devices
    }
    join = geomap["transformations"][0]
    assert join == {"id": "joinByField", "options": {"byField": "device", "mode": "outer"}}
    kept = geomap["transformations"][1]["options"]["include"]["names"]
    assert {"lat", "lon", "online", "aqi", "device"} <= set(kept)


def test_rule_files_use_dollar_signs_only_where_grafana_does_not_expand_environment_variables() -> None:
    # Grafana's file provisioning expands $VARS in every rule field except data[].model (kept raw so macros
    # survive) and annotations; a `$` elsewhere would be silently replaced by an empty environment variable.
    for rule in rules():
        expanded = {k: v for k, v in rule.items() if k not in {"data", "annotations"}}
        assert "$" not in json.dumps(expanded), rule["title"]
        for item in rule["data"]:
            assert "$" not in json.dumps({k: v for k, v in item.items() if k != "model"})
        assert "${" not in json.dumps(rule["annotations"])


def test_datasource_file_keeps_credentials_in_the_environment() -> None:
    data = yaml.safe_load((ROOT / "datasources" / "village.yaml").read_text(encoding="utf-8"))
    (influx,) = [d for d in data["datasources"] if d["type"] == "influxdb"]
    assert influx["uid"] == INFLUX_UID
    assert influx["url"] == "${VILLAGE_INFLUX_URL}"
    assert influx["secureJsonData"] == {"password": "${VILLAGE_INFLUX_PASSWORD}"}
    assert influx["jsonData"]["dbName"] == "${VILLAGE_INFLUX_DB}"
    assert influx["jsonData"]["version"] == "InfluxQL"
    assert influx["jsonData"]["httpMode"] == "POST"
    provider = yaml.safe_load((ROOT / "dashboards" / "provider.yaml").read_text(encoding="utf-8"))["providers"][0]
    assert provider["options"]["path"] == f"{provisioning.CONTAINER_DIR}/dashboards"


def test_the_sdk_build_is_the_grafana_version_the_image_runs() -> None:
    assert version(SDK_DISTRIBUTION).endswith(f"!{SDK_GRAFANA_MINOR}.0")
    assert GRAFANA_VERSION.startswith(SDK_GRAFANA_MINOR + ".")
    assert f"grafana/grafana:{GRAFANA_VERSION}" == GRAFANA_IMAGE
    for compose in Path(__file__).parents[2].glob("docker-compose*.y*ml"):
        images = re.findall(r"image:\s*[\"']?(grafana/grafana[^\s\"']*)", compose.read_text(encoding="utf-8"))
        assert images in ([], [GRAFANA_IMAGE]), f"{compose.name} runs {images}, the dashboards target {GRAFANA_IMAGE}"


def test_the_committed_station_registry_is_the_fleet_village_up_simulates() -> None:
    expected = registry_of(load_scenario("demo"))
    assert load_registry() == expected
    assert format_registry(load_registry()) == format_registry(expected)


@pytest.mark.parametrize("on", [date(2025, 12, 31), date(2026, 1, 1)])
def test_the_pm25_rule_follows_the_limit_in_force(on: date) -> None:
    built = provisioning.build(load_registry(), today=on)
    (pm25,) = [r for r in built.rules if r["uid"] == "village-pm25-24h"]
    threshold = pm25["data"][2]["model"]["conditions"][0]["evaluator"]["params"]
    assert threshold == [50.0 if on.year == 2025 else 45.0]
