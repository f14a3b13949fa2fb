"""`/villages`, `/devices` and `/devices/{id}/latest` agree with the registry and with what the boards sent."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import httpx

from devices.registry import RegisteredDevice, format_registry
from tests.api.conftest import GHOST, READ_ALL_TOKEN, Dataset, api_settings, bearer, serving
from tests.helpers import eventually


def latest_sent(dataset: Dataset, device: str) -> dict[str, float]:
    last = max((s for s in dataset.sent if s.device == device), key=lambda s: s.ts_ms)
    return last.values


def test_devices_lists_registry_entries_and_unregistered_senders(client: httpx.Client, dataset: Dataset) -> None:
    answer = client.get("/api/v1/devices").json()
    by_id = {d["id"]: d for d in answer["devices"]}
    assert set(by_id) == {d.id for d in dataset.registry.devices} | {GHOST}
    assert answer["count"] == len(by_id)
    ghost = by_id[GHOST]
    assert (ghost["registered"], ghost["village"], ghost["kind"], ghost["lat"]) == (False, "dau-tieng", "air", None)
    for entry in dataset.registry.devices:
        device = by_id[entry.id]
        sent = latest_sent(dataset, entry.id)
        assert device["registered"] and (device["lat"], device["lon"], device["kind"]) == (
            entry.lat,
            entry.lon,
            entry.kind,
        )
        assert (device["battery_v"], device["rssi_dbm"]) == (sent["bat"], sent["rssi"])
        assert device["last_seen_ms"] == dataset.last_ms and device["online"] is True


def test_devices_of_one_village_as_csv_round_trip(client: httpx.Client) -> None:
    answer = client.get("/api/v1/devices", params={"village": "an-tay"}).json()
    response = client.get("/api/v1/devices", params={"village": "an-tay", "format": "csv"})
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [r["id"] for r in rows] == [d["id"] for d in answer["devices"]] and len(rows) == 3
    for row, device in zip(rows, answer["devices"], strict=True):
        assert float(row["lat"]) == device["lat"] and float(row["battery_v"]) == device["battery_v"]
        assert (
            row["registered"] == "true"
            and row["name"] == device["name"]
            and int(row["last_seen_ms"]) == device["last_seen_ms"]
        )


def test_villages_count_devices_and_last_activity(client: httpx.Client, dataset: Dataset) -> None:
    villages = {v["id"]: v for v in client.get("/api/v1/villages").json()["villages"]}
    assert set(villages) == {"dau-tieng", "an-tay"}
    phu_an = villages["dau-tieng"]
    assert (phu_an["name"], phu_an["devices"], phu_an["registered_devices"], phu_an["unregistered_devices"]) == (
        "Dầu Tiếng",
        4,
        3,
        1,
    )
    assert phu_an["online_devices"] == 4 and phu_an["last_activity_ms"] == dataset.last_ms


def test_latest_has_every_quantity_sent_last_with_unit_and_flags(client: httpx.Client, dataset: Dataset) -> None:
    answer = client.get("/api/v1/devices/dau-tieng-air-01/latest").json()
    assert (answer["village"], answer["registered"]) == ("dau-tieng", True)
    values = {q: r["value"] for q, r in answer["readings"].items()}
    assert values == latest_sent(dataset, "dau-tieng-air-01")
    assert answer["readings"]["co2"]["flags"] == ["soft_limit"] and answer["readings"]["pm25"]["flags"] == []
    assert answer["readings"]["pm25"]["unit"] == "µg/m³" and answer["readings"]["pm25"]["ts_ms"] == dataset.last_ms


def test_an_unregistered_device_is_served_and_marked(client: httpx.Client, dataset: Dataset) -> None:
    answer = client.get(f"/api/v1/devices/{GHOST}/latest").json()
    assert (answer["registered"], answer["village"]) == (False, "dau-tieng")
    assert {q: r["value"] for q, r in answer["readings"].items()} == latest_sent(dataset, GHOST)


def test_unknown_device_is_a_404_in_the_stable_shape(client: httpx.Client) -> None:
    response = client.get("/api/v1/devices/no-such-device/latest")
    assert response.status_code == 404
    assert response.json() == {
        "error": {"code": "device_not_found", "message": "no readings for device 'no-such-device'"}
    }


def test_registry_edits_are_picked_up_without_a_restart(dataset: Dataset, tmp_path: Path) -> None:
    registry_path = tmp_path / "registry.toml"
    registry_path.write_text(format_registry(dataset.registry))
    settings = api_settings(dataset, registry_file=registry_path)
    with serving(settings) as url, httpx.Client(base_url=url, headers=bearer(READ_ALL_TOKEN)) as http:
        assert http.get(f"/api/v1/devices/{GHOST}/latest").json()["registered"] is False
        ghost = RegisteredDevice(id=GHOST, village="dau-tieng", kind="air", name="Trạm mới", lat=11.05, lon=106.58)
        registry_path.write_text(format_registry(dataset.registry.with_device(ghost)))

        def registered() -> bool:
            return bool(http.get(f"/api/v1/devices/{GHOST}/latest").json()["registered"])

        eventually(registered, timeout_s=5, what="registry re-read")
        silent = RegisteredDevice(
            id="dau-tieng-new-01", village="dau-tieng", kind="water", name="Mới lắp", lat=11, lon=106.6
        )
        registry_path.write_text(format_registry(dataset.registry.with_device(ghost).with_device(silent)))
        silent_latest = http.get("/api/v1/devices/dau-tieng-new-01/latest")  # the file is checked on every request
        assert silent_latest.status_code == 404 and silent_latest.json()["error"]["code"] == "no_readings"
        listed = {d["id"]: d for d in http.get("/api/v1/devices").json()["devices"]}["dau-tieng-new-01"]
        assert (listed["registered"], listed["last_seen"], listed["online"]) == (True, None, False)
        registry_path.write_text("[[device]\nbroken")  # a half-saved edit keeps the last good registry
        devices = {d["id"]: d for d in http.get("/api/v1/devices").json()["devices"]}
        assert devices[GHOST]["name"] == "Trạm mới" and devices[GHOST]["lat"] == 11.05
