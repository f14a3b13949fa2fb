"""`village dashboards` as an operator runs it: build into a directory, check it, plan a push."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from click.testing import CliRunner

from dashboards.datasources import INFLUX_UID, STATIONS_UID
from dashboards.provisioning import PROVISIONING_DIR, build
from dashboards.push import plan
from dashboards.settings import DashboardSettings
from dashboards.stations import load_registry
from village.cli import main


def test_build_writes_the_files_and_then_reports_them_fresh(tmp_path: Path) -> None:
    runner = CliRunner()
    first = runner.invoke(main, ["dashboards", "build", "--dir", str(tmp_path)])
    assert first.exit_code == 0, first.output
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.*")) == sorted(
        p.relative_to(PROVISIONING_DIR).as_posix() for p in PROVISIONING_DIR.rglob("*.*")
    )
    fresh = runner.invoke(main, ["dashboards", "build", "--dir", str(tmp_path), "--check-fresh"])
    assert fresh.exit_code == 0, fresh.output
    (tmp_path / "dashboards" / "village-air.json").write_text("{}", encoding="utf-8")
    (tmp_path / "dashboards" / "old.json").write_text("{}", encoding="utf-8")
    stale = runner.invoke(main, ["dashboards", "build", "--dir", str(tmp_path), "--check-fresh"])
    assert stale.exit_code == 1
    assert "dashboards/old.json" in stale.output and "dashboards/village-air.json" in stale.output


def test_push_plan_resolves_credentials_and_keeps_the_provisioned_uids() -> None:
    settings = DashboardSettings(
        _env_file=None,  # type: ignore[call-arg]
        influx_url="http://influxdb:8086",
        influx_db="village",
        influx_username="grafana",
        influx_password="s3cret",
    )
    built = build(load_registry(), today=date(2026, 6, 1))
    to_send = plan(built, settings, influx_url="http://db.internal:8086")
    influx, stations = to_send.datasources
    assert (influx["uid"], influx["url"], influx["user"]) == (INFLUX_UID, "http://db.internal:8086", "grafana")
    assert influx["secureJsonData"] == {"password": "s3cret"}
    assert influx["jsonData"]["dbName"] == "village"
    assert stations["uid"] == STATIONS_UID
    assert [d["dashboard"]["uid"] for d in to_send.dashboards] == [d.uid for d in built.dashboards]
    assert all(d["folderUid"] == to_send.folder["uid"] and d["overwrite"] for d in to_send.dashboards)
    assert {r["uid"] for r in to_send.rule_group["rules"]} == {r["uid"] for r in built.rules}
    assert all(r["folderUID"] == to_send.folder["uid"] for r in to_send.rule_group["rules"])
