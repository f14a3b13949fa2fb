"""The ingestor's view of the registry: policy, reloads while running, and a broken file never taking over."""

from __future__ import annotations

from pathlib import Path

import pytest

from devices.reasons import RejectReason
from devices.registry import RegisteredDevice, Registry, Village, format_registry
from ingest.errors import ConfigurationError
from ingest.registry import DeviceRegistry, Standing


class Clock:
    def __init__(self) -> None:
        self.now_s = 0.0

    def __call__(self) -> float:
        return self.now_s


def write(path: Path, *devices: tuple[str, str]) -> None:
    villages = tuple(Village(id=v, name=v, lat=11, lon=106) for v in sorted({v for _, v in devices} | {"phu-an"}))
    boards = tuple(RegisteredDevice(id=d, village=v, kind="water", name=d, lat=11, lon=106) for d, v in devices)
    path.write_text(format_registry(Registry(villages=villages, devices=boards)))


def test_reject_policy_names_the_reason(tmp_path: Path) -> None:
    path = tmp_path / "registry.toml"
    write(path, ("w1", "phu-an"))
    registry = DeviceRegistry(path, policy="reject")
    assert registry.admit("phu-an", "w1") is Standing.REGISTERED
    assert registry.admit("phu-an", "w2") is RejectReason.UNKNOWN_DEVICE
    assert registry.admit("tan-uyen", "w1") is RejectReason.VILLAGE_MISMATCH
    assert "registered in village 'phu-an', not 'tan-uyen'" in registry.detail("tan-uyen", "w1")


def test_accept_policy_stores_and_marks(tmp_path: Path) -> None:
    path = tmp_path / "registry.toml"
    write(path, ("w1", "phu-an"))
    registry = DeviceRegistry(path, policy="accept")
    assert registry.admit("phu-an", "w2") is Standing.UNREGISTERED
    assert registry.admit("tan-uyen", "w1") is Standing.UNREGISTERED  # registered elsewhere: an officer looks


def test_a_missing_registry_refuses_to_start_only_with_policy_reject(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="VILLAGE_INGEST_UNKNOWN_DEVICES=reject needs a valid registry"):
        DeviceRegistry(tmp_path / "nope.toml", policy="reject")
    registry = DeviceRegistry(tmp_path / "nope.toml", policy="accept")
    assert registry.admit("phu-an", "w1") is Standing.UNREGISTERED


def test_edits_are_picked_up_and_a_broken_or_vanished_file_keeps_the_last_good_one(tmp_path: Path) -> None:
    path = tmp_path / "registry.toml"
    write(path, ("w1", "phu-an"))
    clock = Clock()
    registry = DeviceRegistry(path, policy="reject", poll_s=2.0, clock_s=clock)
    write(path, ("w1", "phu-an"), ("w2", "phu-an"))
    registry.refresh()
    assert registry.admit("phu-an", "w2") is RejectReason.UNKNOWN_DEVICE  # not looked at before poll_s
    clock.now_s = 2.5
    registry.refresh()
    assert registry.admit("phu-an", "w2") is Standing.REGISTERED
    generation = registry.generation
    path.write_text("[[device]]\nid = 'w3'\n")  # half-saved or hand-broken
    clock.now_s = 5.0
    registry.refresh()
    assert registry.admit("phu-an", "w2") is Standing.REGISTERED and registry.generation == generation
    path.unlink()
    clock.now_s = 7.5
    registry.refresh()
    assert registry.devices == 2
    tmp = tmp_path / "registry.toml.tmp"
    write(tmp, ("w3", "phu-an"))
    tmp.rename(path)  # how editors and `village devices add` save
    clock.now_s = 10.0
    registry.refresh()
    assert registry.admit("phu-an", "w3") is Standing.REGISTERED
    assert registry.admit("phu-an", "w1") is RejectReason.UNKNOWN_DEVICE
