"""`village devices list|add|remove` edit the registry file that the API and the simulator share."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from click.testing import CliRunner

from devices.registry import parse_registry
from village.cli import main


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["devices", *args], catch_exceptions=False)
    return result.exit_code, result.output


def test_add_list_replace_and_remove(tmp_path: Path) -> None:
    path = tmp_path / "data" / "registry.toml"
    code, output = run(
        "add", "phu-an-water-01", "--registry", str(path), "--village", "phu-an", "--village-name", "Phú An",
        "--kind", "water", "--name", "Trạm nước 1", "--lat", "11.05", "--lon", "106.58",
        "--installed", "2026-01-15", "--owner", "HTX Phú An",
    )  # fmt: skip
    assert code == 0 and "added phu-an-water-01" in output
    registry = parse_registry(path.read_text())
    device = registry.by_id["phu-an-water-01"]
    assert (device.installed, device.owner, device.lat, device.lon) == (date(2026, 1, 15), "HTX Phú An", 11.05, 106.58)
    assert registry.village("phu-an") is not None
    code, output = run(
        "add", "phu-an-water-01", "--registry", str(path), "--village", "phu-an", "--kind", "water",
        "--name", "Trạm nước mới", "--lat", "11.06", "--lon", "106.59",
    )  # fmt: skip
    assert code == 0 and "replaced" in output
    assert parse_registry(path.read_text()).by_id["phu-an-water-01"].name == "Trạm nước mới"
    code, output = run("list", "--registry", str(path), "--format", "csv")
    assert code == 0
    assert output.splitlines() == [
        "id,village,kind,name,lat,lon,installed,owner",
        "phu-an-water-01,phu-an,water,Trạm nước mới,11.06000,106.59000,,",
    ]
    assert run("list", "--registry", str(path))[0] == 0
    code, output = run("remove", "phu-an-water-01", "--registry", str(path))
    assert code == 0 and parse_registry(path.read_text()).devices == ()


def test_refusals_leave_the_file_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "registry.toml"
    base = ["--registry", str(path), "--kind", "air", "--name", "x", "--lat", "11", "--lon", "106"]
    code, output = run("add", "d1", "--village", "nowhere", *base)
    assert code != 0 and "--village-name" in output and not path.exists()
    code, output = run("add", "Bad Id", "--village", "v1", "--village-name", "V", *base)
    assert code != 0 and "invalid device" in output and not path.exists()
    code, output = run("add", "d1", "--village", "v1", "--village-name", "V", *base[:-4], "--lat", "95", "--lon", "106")
    assert code != 0 and not path.exists()
    assert run("add", "d1", "--village", "v1", "--village-name", "V", *base)[0] == 0
    before = path.read_text()
    code, output = run("remove", "d2", "--registry", str(path))
    assert code != 0 and "no device 'd2'" in output and path.read_text() == before
