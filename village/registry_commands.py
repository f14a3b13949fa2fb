"""`village devices list|add|remove`: edit the device registry file (VILLAGE_REGISTRY_FILE) from the shell.

The file stays hand-editable TOML; every change is validated as a whole registry, then written atomically
(a temporary file renamed over the old one), so the API, which re-reads the file when it changes, never sees
half a file.
"""

from __future__ import annotations

import csv
import io
import tempfile
from datetime import datetime
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from devices.config import VillageSettings
from devices.errors import RegistryError
from devices.registry import RegisteredDevice, Registry, Village, format_registry, parse_registry

console = Console(highlight=False)


def _path(registry_file: Path | None) -> Path:
    return registry_file or VillageSettings().registry_path


def load(path: Path) -> Registry:
    """The registry in `path`; an absent file is an empty registry."""
    if not path.exists():
        return Registry()
    try:
        return parse_registry(path.read_text(encoding="utf-8"))
    except RegistryError as exc:
        raise click.ClickException(str(exc)) from exc


def save(path: Path, registry: Registry) -> None:
    """Write atomically: the new content appears whole or not at all."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=path.parent, delete=False, suffix=".tmp") as handle:
        handle.write(format_registry(registry))
        temporary = Path(handle.name)
    temporary.replace(path)


_FILE = click.option(
    "--registry",
    "registry_file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Registry file (default: VILLAGE_REGISTRY_FILE or $VILLAGE_DATA_DIR/registry.toml).",
)


@click.command("list")
@_FILE
@click.option("--village", help="Only devices of this village.")
@click.option("--format", "output", type=click.Choice(["table", "csv"]), default="table", show_default=True)
def list_command(registry_file: Path | None, village: str | None, output: str) -> None:
    """List registered devices (as a table, or CSV for scripts)."""
    registry = load(_path(registry_file))
    header = ("id", "village", "kind", "name", "lat", "lon", "installed", "owner")
    rows = [
        (
            d.id,
            d.village,
            d.kind,
            d.name,
            f"{d.lat:.5f}",
            f"{d.lon:.5f}",
            d.installed.isoformat() if d.installed else "",
            d.owner or "",
        )
        for d in registry.devices
        if village is None or d.village == village
    ]
    if output == "csv":
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerows([header, *rows])
        click.echo(buffer.getvalue(), nl=False)
        return
    table = Table(*header)
    for row in rows:
        table.add_row(*row)
    console.print(table)


@click.command("add")
@_FILE
@click.argument("device_id")
@click.option("--village", required=True, help="Village id (added to the registry if new; then --village-name too).")
@click.option("--kind", required=True, type=click.Choice(["water", "air", "agri"]))
@click.option("--name", required=True, help="A name people recognise.")
@click.option("--lat", required=True, type=float, help="Latitude, WGS 84.")
@click.option("--lon", required=True, type=float, help="Longitude, WGS 84.")
@click.option("--installed", type=click.DateTime(formats=["%Y-%m-%d"]), help="Installation date, YYYY-MM-DD.")
@click.option("--owner", help="Who owns or looks after the device.")
@click.option("--village-name", help="Name of a new village (its point defaults to the device's).")
def add_command(  # noqa: PLR0917 - click passes one parameter per option
    registry_file: Path | None,
    device_id: str,
    village: str,
    kind: str,
    name: str,
    lat: float,
    lon: float,
    installed: datetime | None,
    owner: str | None,
    village_name: str | None,
) -> None:
    """Add a device, or replace the one with the same id."""
    path = _path(registry_file)
    registry = load(path)
    villages = registry.villages
    if registry.village(village) is None:
        if village_name is None:
            raise click.UsageError(f"village {village!r} is not in the registry: give --village-name to add it")
        villages = (*villages, _village(village, village_name, lat, lon))
    day = installed.date() if installed is not None else None
    try:
        device = RegisteredDevice.model_validate(
            {
                "id": device_id,
                "village": village,
                "kind": kind,
                "name": name,
                "lat": lat,
                "lon": lon,
                "installed": day,
                "owner": owner,
            }
        )
        updated = Registry(villages=villages, devices=registry.devices).with_device(device)
    except ValueError as exc:
        raise click.ClickException(f"invalid device: {exc}") from exc
    save(path, updated)
    console.print(f"{'replaced' if device_id in registry.by_id else 'added'} {device_id} in {path}")


def _village(village_id: str, name: str, lat: float, lon: float) -> Village:
    try:
        return Village(id=village_id, name=name, lat=lat, lon=lon)
    except ValueError as exc:
        raise click.ClickException(f"invalid village: {exc}") from exc


@click.command("remove")
@_FILE
@click.argument("device_id")
def remove_command(registry_file: Path | None, device_id: str) -> None:
    """Remove a device from the registry (its data stays in InfluxDB and is then served as unregistered)."""
    path = _path(registry_file)
    registry = load(path)
    if device_id not in registry.by_id:
        raise click.ClickException(f"no device {device_id!r} in {path}")
    save(path, registry.without_device(device_id))
    console.print(f"removed {device_id} from {path}")
