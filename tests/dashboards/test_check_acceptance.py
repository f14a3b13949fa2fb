"""Acceptance: every query of every panel and alert returns data from a month of real fleet history."""

from __future__ import annotations

import re

from dashboards.check import QueryOutcome, check
from dashboards.influx import InfluxReader
from dashboards.provisioning import PROVISIONING_DIR
from dashboards.settings import DashboardSettings
from devices.schema import LINK, PIPELINE, REJECTS, STATUS
from tests.dashboards.conftest import FilledDatabase
from tests.helpers import influx_rows

INGEST_ENGINE_MEASUREMENTS = (STATUS, LINK, PIPELINE, REJECTS)
"""Written only by the ingest engine of issue 3 (status messages, seq accounting, self-metrics)."""


def run_check(filled: FilledDatabase):
    settings = DashboardSettings(_env_file=None, influx_url=filled.url, influx_db=filled.name)  # type: ignore[call-arg]
    with InfluxReader(settings) as reader:
        return check(PROVISIONING_DIR, reader, now_ms=filled.now_ms + 5_000)


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
