"""`village farmers add|list|remove|link`: give a farmer a personal link to their fields, to send by SMS or Zalo.

Edits VILLAGE_FARMERS_FILE (default `$VILLAGE_DATA_DIR/farmers.toml`), written atomically with mode 0600; the
API re-reads it when it changes, so a new link works at once. Tokens are printed only by `add` and `link`.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from api.settings import ApiSettings
from api.web.farmers import Farmer, Farmers, FarmersFileError, load_farmers, new_token, save_farmers, slug
from devices.errors import RegistryError
from devices.ids import is_identifier
from devices.registry import parse_registry

_FILE = click.option(
    "--farmers",
    "farmers_file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Farmers file (default: VILLAGE_FARMERS_FILE or $VILLAGE_DATA_DIR/farmers.toml).",
)


def _settings() -> ApiSettings:
    return ApiSettings()


def _load(path: Path) -> Farmers:
    try:
        return load_farmers(path)
    except FarmersFileError as exc:
        raise click.ClickException(str(exc)) from exc


_URL = click.option(
    "--url", help="Start of the link (default: VILLAGE_API_PUBLIC_URL), e.g. https://iot.example.gov.vn"
)


def _link(settings: ApiSettings, farmer: Farmer, url: str | None) -> str:
    return f"{(url or settings.api_public_url).rstrip('/')}/f/{farmer.token}"


def _unregistered(settings: ApiSettings, devices: tuple[str, ...]) -> list[str]:
    try:
        registry = parse_registry(settings.registry_path.read_text(encoding="utf-8"))
    except (OSError, RegistryError):
        return list(devices)
    return [d for d in devices if d not in registry.by_id]


def _unique_id(farmers: Farmers, name: str) -> str:
    base = slug(name)
    candidate, number = base, 2
    while farmers.get(candidate) is not None:
        candidate, number = f"{base}-{number}", number + 1
    return candidate


@click.command("add")
@_FILE
@click.option("--name", required=True, help="The farmer's name as they write it, e.g. 'Nguyễn Văn An'.")
@click.option("--phone", help="Phone number for the officer's records (not shown on the page).")
@click.option("--device", "devices", multiple=True, required=True, help="A device (field) to show; repeat.")
@click.option("--id", "farmer_id", help="Id of the farmer (default: from the name, e.g. nguyen-van-an).")
@_URL
def add_command(
    *,
    farmers_file: Path | None,
    name: str,
    phone: str | None,
    devices: tuple[str, ...],
    farmer_id: str | None,
    url: str | None,
) -> None:
    """Add a farmer (or change one's name, phone and devices) and print their link."""
    settings = _settings()
    path = farmers_file or settings.farmers_path
    farmers = _load(path)
    for device in devices:
        if not is_identifier(device):
            raise click.BadParameter(f"{device!r} is not a device id", param_hint="--device")
    existing = farmers.get(farmer_id) if farmer_id else None
    chosen = farmer_id or _unique_id(farmers, name)
    if not is_identifier(chosen):
        raise click.BadParameter(f"{chosen!r} is not a valid id (a-z, 0-9, - and _)", param_hint="--id")
    farmer = Farmer(
        id=chosen,
        name=name,
        phone=phone,
        devices=tuple(dict.fromkeys(devices)),
        token=existing.token if existing else new_token(),
        created=existing.created if existing else date.today(),  # noqa: DTZ011 - the officer's calendar day
    )
    save_farmers(path, farmers.with_farmer(farmer))
    for device in _unregistered(settings, farmer.devices):
        click.echo(f"warning: {device} is not in the device registry; its page stays empty until it sends data")
    click.echo(f"{'Updated' if existing else 'Added'} {farmer.id} ({farmer.name}). Send this link:")
    click.echo(_link(settings, farmer, url))


@click.command("list")
@_FILE
def list_command(farmers_file: Path | None) -> None:
    """List farmers and their devices (links are not shown: use `village farmers link ID`)."""
    farmers = _load(farmers_file or _settings().farmers_path)
    if not farmers.farmers:
        click.echo("No farmers yet: village farmers add --name '…' --device <id>")
    for farmer in farmers.farmers:
        phone = f"  {farmer.phone}" if farmer.phone else ""
        click.echo(f"{farmer.id}  {farmer.name}{phone}  {', '.join(farmer.devices)}")


@click.command("link")
@_FILE
@click.argument("farmer_id")
@click.option("--new", "rotate", is_flag=True, help="Issue a new link; the old one stops working at once.")
@_URL
def link_command(farmers_file: Path | None, farmer_id: str, url: str | None, *, rotate: bool) -> None:
    """Print a farmer's link again (to resend it), or replace a lost or leaked one with --new."""
    settings = _settings()
    path = farmers_file or settings.farmers_path
    farmers = _load(path)
    farmer = farmers.get(farmer_id)
    if farmer is None:
        raise click.ClickException(f"no farmer {farmer_id!r} (see village farmers list)")
    if rotate:
        farmer = farmer.model_copy(update={"token": new_token()})
        save_farmers(path, farmers.with_farmer(farmer))
    click.echo(_link(settings, farmer, url))


@click.command("remove")
@_FILE
@click.argument("farmer_id")
def remove_command(farmers_file: Path | None, farmer_id: str) -> None:
    """Remove a farmer; their link stops working at once."""
    path = farmers_file or _settings().farmers_path
    farmers = _load(path)
    if farmers.get(farmer_id) is None:
        raise click.ClickException(f"no farmer {farmer_id!r} (see village farmers list)")
    save_farmers(path, farmers.without(farmer_id))
    click.echo(f"Removed {farmer_id}; the link no longer opens.")


@click.group("farmers")
def farmers_group() -> None:
    """Farmers' personal links to their fields (VILLAGE_FARMERS_FILE)."""


for _command in (add_command, list_command, link_command, remove_command):
    farmers_group.add_command(_command)
