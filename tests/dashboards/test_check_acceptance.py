"""Acceptance: every query of every panel and alert returns data from a month of real fleet history."""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

import numpy as np
from click.testing import CliRunner

from dashboards.check import QueryOutcome, check
from dashboards.cli import today
from dashboards.influx import InfluxReader
from dashboards.limits import BATTERY_LOW_V, PH_ALLOWED, pm25_24h_limit
from dashboards.provisioning import PROVISIONING_DIR
from dashboards.settings import DashboardSettings
from devices.schema import LINK, PIPELINE, REJECTS, STATUS
from tests.dashboards.conftest import FilledDatabase
from tests.helpers import influx_rows
from village.cli import main

INGEST_ENGINE_MEASUREMENTS = (STATUS, LINK, PIPELINE, REJECTS)
"""Written only by the ingest engine of issue 3 (status messages, seq accounting, self-metrics)."""


def run_check(filled: FilledDatabase, now_ms: int | None = None):
    """Check at `now_ms` (default: now, as Grafana would: self-metrics are written in real time)."""
    settings = DashboardSettings(_env_file=None, influx_url=filled.url, influx_db=filled.name)  # type: ignore[call-arg]
    with InfluxReader(settings) as reader:
        return check(PROVISIONING_DIR, reader, now_ms=now_ms or time.time_ns() // 1_000_000)


def measurements_named(outcome: QueryOutcome) -> set[str]:
    return set(re.findall(r'FROM "([^"]+)"', outcome.query))


def describe(failures: list[QueryOutcome]) -> str:
    return "\n".join(f"- {f.where}: {f.error}\n    {f.query[:300]}" for f in failures)


def test_every_panel_and_alert_on_readings_returns_data(filled: FilledDatabase) -> None:
    report = run_check(filled)
    readings = [q for q in report.queries if not measurements_named(q) & set(INGEST_ENGINE_MEASUREMENTS)]
    assert len(readings) > 40
    failures = [q for q in readings if not q.ok]
    assert not failures, "queries on stored readings failed:\n" + describe(failures)


def test_every_panel_and_alert_on_ingest_engine_metrics_returns_data(filled: FilledDatabase) -> None:
    report = run_check(filled)
    engine = [q for q in report.queries if measurements_named(q) & set(INGEST_ENGINE_MEASUREMENTS)]
    assert len(engine) >= 15
    failures = [q for q in engine if not q.ok]
    present = {str(r["name"]) for r in influx_rows(filled.url, filled.name, "SHOW MEASUREMENTS")} & set(
        INGEST_ENGINE_MEASUREMENTS
    )
    missing = sorted(set(INGEST_ENGINE_MEASUREMENTS) - present)
    assert not failures, (
        f"{len(failures)} panel/alert queries need data the ingest engine (issue 3) writes; measurements "
        f"absent from InfluxDB after the backfill: {missing or 'none'}. Until the ingestor stores status messages, "
        "seq accounting and its self-metrics, these cannot return data:\n" + describe(failures)
    )


def expected_firing(filled: FilledDatabase, now: int, quantity: str, window_ms: int, decide) -> set[str]:
    """Devices whose readings in [now - window, now] satisfy `decide`, computed from the ground truth."""
    firing = set()
    for device in filled.sent.series:
        values = np.array(filled.sent.values(device, quantity, now - window_ms, now))
        if values.size and decide(values):
            firing.add(device)
    return firing


def firing_devices(report, title_start: str) -> set[str]:
    (alert,) = [a for a in report.alerts if a.title.startswith(title_start)]
    return {dict(kv.split("=") for kv in labels.split(","))["device"] for labels in alert.firing}


def test_alert_rules_fire_for_exactly_the_boards_the_sent_data_says(filled: FilledDatabase) -> None:
    now = filled.now_ms + 5_000  # a fixed instant, so windows are the same for InfluxDB and for NumPy
    report = run_check(filled, now)
    hour, day = 3_600_000, 86_400_000
    low, high = PH_ALLOWED
    pm25_limit = pm25_24h_limit(today())
    cases = {
        "PM2.5": expected_firing(filled, now, "pm25", day, lambda v: v.mean() > pm25_limit),
        "pH": expected_firing(filled, now, "ph", hour, lambda v: not low <= v.mean() <= high),
        "Pin": expected_firing(filled, now, "bat", hour, lambda v: v[-1] < BATTERY_LOW_V),
    }
    # Boards without a credible clock are stored at the receive time, which the ground truth cannot know.
    unknowable = filled.sent.receive_time_devices
    for title, expected in cases.items():
        assert firing_devices(report, title) - unknowable == expected - unknowable, title
    assert cases["Pin"] and cases["pH"], "the published alarms must make the battery and pH rules fire"
    instances = {a.title: a.instances for a in report.alerts}
    air_boards = sum(1 for d in filled.registry.devices if d.kind == "air")
    assert instances["PM2.5 trung bình 24 giờ vượt QCVN 05:2023"] == air_boards  # every air board is evaluated


def test_check_passes_on_a_dashboard_whose_data_exists_and_fails_on_one_whose_data_does_not(
    filled: FilledDatabase, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setenv("VILLAGE_INFLUX_URL", filled.url)
    monkeypatch.setenv("VILLAGE_INFLUX_DB", filled.name)
    (tmp_path / "dashboards").mkdir()
    shutil.copy(PROVISIONING_DIR / "dashboards" / "village-air.json", tmp_path / "dashboards")
    passed = CliRunner().invoke(main, ["dashboards", "check", "--dir", str(tmp_path)])
    assert passed.exit_code == 0, passed.output
    assert "0 failed" in passed.output and "ok " in passed.output
    monkeypatch.setenv("VILLAGE_INFLUX_DB", "nothing_here")
    failed = CliRunner().invoke(main, ["dashboards", "check", "--dir", str(tmp_path), "--quiet"])
    assert failed.exit_code == 1
    assert "FAIL  Không khí › Bụi PM2.5 › A" in failed.output
