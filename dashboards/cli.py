"""`village dashboards build | check | push`."""

from __future__ import annotations

import logging
import sys
import time
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import click

from dashboards import provisioning
from dashboards.boards.common import TIMEZONE
from dashboards.check import Report, check
from dashboards.errors import DashboardsError
from dashboards.influx import InfluxReader
from dashboards.push import connect, plan, push
from dashboards.settings import DashboardSettings
from dashboards.stations import DEFAULT_REGISTRY, load_registry
from devices.errors import RegistryError

logger = logging.getLogger(__name__)

_REGISTRY = click.option(
    "--registry",
    "registry_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=DEFAULT_REGISTRY,
    show_default=True,
    help="Device registry (TOML) giving the station map its coordinates.",
)
_DIR = click.option(
    "--dir",
    "root",
    type=click.Path(file_okay=False, path_type=Path),
    default=provisioning.PROVISIONING_DIR,
    show_default=True,
    help="Provisioning directory (datasources/, dashboards/, alerting/).",
)


def today() -> date:
    """Today in Vietnam, which decides the QCVN 05:2023 PM2.5 limit in force."""
    return datetime.now(tz=ZoneInfo(TIMEZONE)).date()


def _build(registry_path: Path) -> provisioning.Build:
    try:
        return provisioning.build(load_registry(registry_path), today=today())
    except RegistryError as exc:
        raise click.ClickException(str(exc)) from exc


@click.group("dashboards")
def dashboards_group() -> None:
    """Grafana dashboards and alert rules: generate, prove against InfluxDB, upload."""


@dashboards_group.command("build")
@_REGISTRY
@_DIR
@click.option("--check-fresh", is_flag=True, help="Write nothing; fail if the files differ from a fresh build.")
def build_command(registry_path: Path, root: Path, check_fresh: bool) -> None:
    """Regenerate the provisioning files from the code (they are committed)."""
    built = _build(registry_path)
    if check_fresh:
        try:
            provisioning.require_fresh(built.files, root)
        except DashboardsError as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(f"{len(built.files)} provisioning files are up to date in {root}")
        return
    changed = provisioning.write(built.files, root)
    click.echo(f"{len(built.files)} files in {root}; changed: {', '.join(changed) if changed else 'none'}")


@dashboards_group.command("check")
@_DIR
@click.option("-q", "--quiet", is_flag=True, help="Print failures only.")
def check_command(root: Path, quiet: bool) -> None:
    """Run every panel, variable and alert query against VILLAGE_INFLUX_URL as Grafana would."""
    settings = DashboardSettings()
    with InfluxReader(settings) as reader:
        report = check(root, reader, now_ms=time.time_ns() // 1_000_000)
    print_report(report, quiet=quiet)
    if report.failures:
        sys.exit(1)


def print_report(report: Report, *, quiet: bool) -> None:
    """One line per query, failures with the query as sent; then what each alert would do now."""
    for outcome in report.queries:
        if outcome.ok and not quiet:
            click.echo(f"ok    {outcome.values:>7}  {outcome.where}")
        elif not outcome.ok:
            click.echo(f"FAIL  {outcome.where}: {outcome.error}\n      {outcome.query}")
    for alert in report.alerts:
        state = f"would fire for {len(alert.firing)}" if alert.firing else "would not fire"
        click.echo(f"alert {alert.title}: {alert.instances} instances, {state}")
    click.echo(f"{len(report.queries) - len(report.failures)} passed, {len(report.failures)} failed")


@dashboards_group.command("push")
@_REGISTRY
@click.option("--influx-url", help="InfluxDB URL as Grafana reaches it (default: VILLAGE_INFLUX_URL).")
def push_command(registry_path: Path, influx_url: str | None) -> None:
    """Upload to the Grafana at VILLAGE_GRAFANA_URL (for installs without provisioning files)."""
    settings = DashboardSettings()
    to_send = plan(_build(registry_path), settings, influx_url=influx_url)
    try:
        with connect(settings) as api:
            for line in push(api, to_send):
                click.echo(f"pushed {line}")
    except DashboardsError as exc:
        raise click.ClickException(str(exc)) from exc
