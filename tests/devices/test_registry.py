"""The registry file: readable by hand, consistent, and round-trips through TOML."""

from __future__ import annotations

from datetime import date

import pytest

from devices.errors import RegistryError
from devices.registry import RegisteredDevice, Registry, Village, format_registry, parse_registry

TEXT = """
[[village]]
id = "phu-an"
name = "Phú An"
lat = 11.048
lon = 106.583

[[device]]
id = "phu-an-water-01"
village = "phu-an"
kind = "water"
name = "Trạm nước 1"
lat = 11.05
lon = 106.58
installed = 2026-01-15
owner = "HTX Phú An"
"""


def test_parse_and_round_trip() -> None:
    registry = parse_registry(TEXT)
    device = registry.by_id["phu-an-water-01"]
    assert device.installed == date(2026, 1, 15)
    assert registry.village("phu-an") == Village(id="phu-an", name="Phú An", lat=11.048, lon=106.583)
    assert parse_registry(format_registry(registry)) == registry


def test_add_replace_and_remove() -> None:
    registry = parse_registry(TEXT)
    other = RegisteredDevice(id="phu-an-air-01", village="phu-an", kind="air", name="Không khí", lat=11.0, lon=106.5)
    grown = registry.with_device(other)
    assert [d.id for d in grown.devices_in("phu-an")] == ["phu-an-water-01", "phu-an-air-01"]
    assert grown.with_device(other.model_copy(update={"name": "Mới"})).by_id["phu-an-air-01"].name == "Mới"
    assert grown.without_device("phu-an-air-01") == registry


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (TEXT + TEXT.split("[[device]]")[1].join(["[[device]]", ""]), "duplicate device ids"),
        (TEXT.replace('village = "phu-an"', 'village = "nowhere"'), "unknown villages"),
        (TEXT.replace('"phu-an-water-01"', '"Bad Id"'), "pattern"),
        (TEXT.replace("lat = 11.05", "lat = 95"), "less than or equal"),
        ("[[device]\n", "invalid registry"),
    ],
)
def test_inconsistent_registries_are_refused_with_the_reason(text: str, message: str) -> None:
    with pytest.raises(RegistryError, match=message):
        parse_registry(text)


def test_empty_registry_is_valid() -> None:
    assert parse_registry("") == Registry()
