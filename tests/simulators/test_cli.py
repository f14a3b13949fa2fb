"""`village simulate` as users run it: help, scenarios, load mode against a real broker."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from devices.registry import parse_registry
from simulators.scenario import builtin_scenarios, fleet_of, load_scenario
from tests.helpers import eventually, village_process


def village(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "village", *args], capture_output=True, text=True, timeout=60, env=env, check=False
    )


def test_help_documents_every_mode() -> None:
    result = village("simulate", "--help")
    assert result.returncode == 0
    for words in ("--scenario", "--speed", "--backfill", "--end", "--load", "--truth", "--registry", "last will"):
        assert words in result.stdout


def test_built_in_scenarios_load_and_the_demo_has_about_60_boards_in_real_communes() -> None:
    assert {"basic", "demo", "faults"} <= set(builtin_scenarios())
    demo = load_scenario("demo")
    boards = fleet_of(demo)
    assert 50 <= len(boards) <= 70
    assert {d.kind for d, _ in boards} == {"water", "air", "agri"}
    assert all(10.9 < d.lat < 11.5 and 106.3 < d.lon < 106.9 for d, _ in boards)  # Bình Dương
    assert boards[0][0].id == "an-tay-water-01"
    assert len(fleet_of(load_scenario("basic").with_overrides(villages=2, devices_per_kind=1))) == 6


def test_a_broken_scenario_is_refused_with_the_reason(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[[group]]\nkind = "volcano"\n', encoding="utf-8")
    result = village("simulate", "--scenario", str(bad))
    assert result.returncode == 2
    assert "invalid scenario" in result.stderr and "kind" in result.stderr
    assert "no built-in scenario 'nope'" in village("simulate", "--scenario", "nope").stderr


def test_load_mode_gets_every_message_acknowledged(broker, tmp_path: Path) -> None:
    registry = tmp_path / "registry.toml"
    load = village_process(
        "load", "simulate", "--load", "--load-devices", "30", "--messages", "3000", "--connections", "2",
        "--window", "200", "--registry", str(registry), "--no-progress",
        env={"VILLAGE_MQTT_URL": broker.url}, log_dir=tmp_path,
    )  # fmt: skip
    eventually(lambda: not load.alive(), timeout_s=60, what="load run finished")
    assert load.popen.returncode == 0, load.log_tail()
    assert "load: 3000 sent, 3000 acknowledged" in load.log_path.read_text()
    assert len(parse_registry(registry.read_text(encoding="utf-8")).devices) == 30
