"""`village dashboards check`: run every panel, variable and alert query of the provisioning files on InfluxDB.

The files (not the Python objects) are checked, so what is proven is what Grafana will load. Each InfluxQL
target is expanded as Grafana expands it (`macros.py`) with every variable on All, over the panel's own time
range, then sent to InfluxDB; an error or a result without a single value fails the check. Alert rules are
also evaluated (reduce last → threshold) so the report says which instances would fire now.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from dashboards.datasources import INFLUX_TYPE, INFLUX_UID, MIN_INTERVAL, STATIONS_TYPE
from dashboards.errors import QueryTemplateError
from dashboards.influx import InfluxReader
from dashboards.macros import TimeRange, Variable, calculate_interval_ms, expand, resolve_range
from devices.influxql import Series
from devices.schema import TAG_DEVICE

ALERT_DEFAULT_INTERVAL_MS = 1000
"""ngalert's default intervalMs (pkg/services/ngalert/models/alert_query.go) when a model does not set one."""


@dataclass(frozen=True, slots=True)
class QueryOutcome:
    """One query as sent, and what came back."""

    where: str
    query: str
    values: int
    error: str | None = None
    series: tuple[Series, ...] = ()

    @property
    def ok(self) -> bool:
        """No error and at least one value."""
        return self.error is None and self.values > 0


@dataclass(frozen=True, slots=True)
class AlertOutcome:
    """What a rule would decide now: the instances (label sets) it evaluated and those that would fire."""

    title: str
    instances: int
    firing: tuple[str, ...]


@dataclass
class Report:
    """Everything `check` ran."""

    queries: list[QueryOutcome] = field(default_factory=list)
    alerts: list[AlertOutcome] = field(default_factory=list)

    @property
    def failures(self) -> list[QueryOutcome]:
        """Queries that errored or returned nothing."""
        return [q for q in self.queries if not q.ok]


def count_values(series: Sequence[Series]) -> int:
    """Non-null values outside the time column, over all series."""
    total = 0
    for s in series:
        columns = [i for i, name in enumerate(s.columns) if name != "time"]
        total += sum(1 for row in s.values for i in columns if row[i] is not None)
    return total


def _failed(where: str, query: str, error: str) -> QueryOutcome:
    return QueryOutcome(where, query, 0, error)


def run(reader: InfluxReader, where: str, query: str) -> QueryOutcome:
    """Send one expanded query."""
    series, error = reader.run(query)
    if error is None and not count_values(series):
        error = "empty result: no series or only nulls"
    return QueryOutcome(where, query, count_values(series), error, tuple(series))


def dashboard_variables(
    reader: InfluxReader, dashboard: Mapping[str, Any], time_range: TimeRange, report: Report
) -> dict[str, Variable]:
    """Resolve the variables in order (later queries may use earlier ones), each set to its current value."""
    variables: dict[str, Variable] = {}
    for spec in dashboard.get("templating", {}).get("list", []):
        name = spec["name"]
        where = f"{dashboard['title']} › ${name}"
        try:
            query = expand(spec["query"], variables=variables, time_range=time_range, interval_ms=60_000)
        except QueryTemplateError as exc:
            report.queries.append(_failed(where, spec["query"], str(exc)))
            continue
        outcome = run(reader, where, query)
        report.queries.append(outcome)
        found = tuple(sorted({str(row[s.columns.index("value")]) for s in outcome.series for row in s.values}))
        current = spec.get("current", {}).get("value", ["$__all"])
        selected = found if "$__all" in current else tuple(current)
        variables[name] = Variable(name, selected, bool(spec.get("multi")), bool(spec.get("includeAll")))
    return variables


def _panels(dashboard: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    for panel in dashboard.get("panels", []):
        if panel.get("type") == "row":
            yield from panel.get("panels", [])
        else:
            yield panel


def check_dashboard(reader: InfluxReader, dashboard: Mapping[str, Any], *, now_ms: int, report: Report) -> None:
    """Every InfluxQL target and static table of one dashboard."""
    dashboard_range = resolve_range(dashboard["time"]["from"], dashboard["time"]["to"], now_ms=now_ms)
    variables = dashboard_variables(reader, dashboard, dashboard_range, report)
    for panel in _panels(dashboard):
        where = f"{dashboard['title']} › {panel['title']}"
        time_range = (
            resolve_range("", "", now_ms=now_ms, panel_time_from=panel["timeFrom"])
            if panel.get("timeFrom")
            else dashboard_range
        )
        devices_with_data: set[str] = set()
        registered: set[str] | None = None
        for target in panel.get("targets", []):
            kind = (target.get("datasource") or {}).get("type")
            label = f"{where} › {target.get('refId', '?')}"
            if kind == STATIONS_TYPE:
                outcome, registered = check_station_table(label, target)
                report.queries.append(outcome)
                continue
            if kind != INFLUX_TYPE:
                report.queries.append(_failed(label, json.dumps(target), f"unsupported data source type {kind!r}"))
                continue
            points = panel.get("maxDataPoints")
            if not points:
                report.queries.append(_failed(label, target["query"], "panel has no maxDataPoints"))
                continue
            interval_ms = calculate_interval_ms(time_range, int(points), panel.get("interval") or MIN_INTERVAL)
            try:
                query = expand(target["query"], variables=variables, time_range=time_range, interval_ms=interval_ms)
            except QueryTemplateError as exc:
                report.queries.append(_failed(label, target["query"], str(exc)))
                continue
            outcome = run(reader, label, query)
            report.queries.append(outcome)
            devices_with_data |= _devices(outcome.series)
        if registered is not None and devices_with_data - registered:
            missing = ", ".join(sorted(devices_with_data - registered))
            report.queries.append(_failed(f"{where} › join", "", f"boards with data but no coordinates: {missing}"))


def _devices(series: Sequence[Series]) -> set[str]:
    """Device ids in a result, whether a tag (time series) or a column (table)."""
    found = {s.tags[TAG_DEVICE] for s in series if TAG_DEVICE in s.tags}
    for s in series:
        if TAG_DEVICE in s.columns:
            index = s.columns.index(TAG_DEVICE)
            found |= {str(row[index]) for row in s.values}
    return found


def check_station_table(where: str, target: Mapping[str, Any]) -> tuple[QueryOutcome, set[str]]:
    """The registry CSV of the station map: rows with a device id and numeric lat/lon."""
    rows = list(csv.DictReader(io.StringIO(target.get("csvContent", ""))))
    bad = [
        r.get("device", "?")
        for r in rows
        if not _is_coordinate(r.get("lat"), 90) or not _is_coordinate(r.get("lon"), 180)
    ]
    error = None if rows and not bad else f"stations without valid lat/lon: {bad}" if bad else "no stations"
    return QueryOutcome(where, "csv_content", len(rows), error), {r["device"] for r in rows if r.get("device")}


def _is_coordinate(text: str | None, limit: float) -> bool:
    try:
        return text is not None and -limit <= float(text) <= limit
    except ValueError:
        return False


def check_rules(reader: InfluxReader, groups: Sequence[Mapping[str, Any]], *, now_ms: int, report: Report) -> None:
    """Each rule's InfluxQL over its relative range, then its reduce and threshold, as Grafana would now."""
    for group in groups:
        for rule in group.get("rules", []):
            check_rule(reader, rule, now_ms=now_ms, report=report)


def check_rule(reader: InfluxReader, rule: Mapping[str, Any], *, now_ms: int, report: Report) -> None:
    """One rule: run its data query, then evaluate reduce (last, nulls dropped) and the threshold per series."""
    by_ref = {item["refId"]: item for item in rule["data"]}
    results: dict[str, list[Series]] = {}
    for ref, item in by_ref.items():
        if item["datasourceUid"] != INFLUX_UID:
            continue
        window = item["relativeTimeRange"]
        time_range = TimeRange(now_ms - int(window["from"]) * 1000, now_ms - int(window.get("to", 0)) * 1000)
        model = item["model"]
        label = f"Alert › {rule['title']} › {ref}"
        try:
            query = expand(
                model["query"],
                variables={},
                time_range=time_range,
                interval_ms=int(model.get("intervalMs", ALERT_DEFAULT_INTERVAL_MS)),
            )
        except QueryTemplateError as exc:
            report.queries.append(_failed(label, model["query"], str(exc)))
            continue
        outcome = run(reader, label, query)
        report.queries.append(outcome)
        results[ref] = list(outcome.series)
    report.alerts.append(evaluate(rule, by_ref, results))


def evaluate(rule: Mapping[str, Any], by_ref: Mapping[str, Any], results: Mapping[str, list[Series]]) -> AlertOutcome:
    """Server-side expressions reduce(last, dropNN) → threshold, per series, as ngalert chains them."""
    condition = by_ref[rule["condition"]]["model"]
    reduce = by_ref[condition["expression"]]["model"]
    series = results.get(reduce["expression"], [])
    evaluator = condition["conditions"][0]["evaluator"]
    firing = []
    for s in series:
        values = [row[i] for row in s.values for i, name in enumerate(s.columns) if name != "time"]
        numbers = [float(v) for v in values if v is not None]
        if numbers and _fires(numbers[-1], evaluator["type"], [float(p) for p in evaluator["params"]]):
            firing.append(",".join(f"{k}={v}" for k, v in sorted(s.tags.items())))
    return AlertOutcome(rule["title"], len(series), tuple(firing))


def _fires(value: float, kind: str, params: Sequence[float]) -> bool:
    checks = {
        "gt": lambda: value > params[0],
        "lt": lambda: value < params[0],
        "outside_range": lambda: value < params[0] or value > params[1],
        "within_range": lambda: params[0] < value < params[1],
    }
    return checks[kind]()


def check(root: Path, reader: InfluxReader, *, now_ms: int) -> Report:
    """Check every dashboard and alert rule file under `root` (a `provisioning/` directory)."""
    report = Report()
    for path in sorted((root / "dashboards").glob("*.json")):
        check_dashboard(reader, json.loads(path.read_text(encoding="utf-8")), now_ms=now_ms, report=report)
    for path in sorted((root / "alerting").glob("*.yaml")):
        groups = yaml.safe_load(path.read_text(encoding="utf-8")).get("groups", [])
        check_rules(reader, groups, now_ms=now_ms, report=report)
    return report
