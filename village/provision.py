"""`village devices provision`: broker logins and ACLs from the device registry, secrets written once with mode 0600.

Only hashes reach the broker's password file. A password exists in clear in two places only: the terminal, once,
and a 0600 file under DATA_DIR/mqtt that the officer flashes onto the board or hands to a container. Existing
lines of the password file are copied unchanged, so rotating one login never touches the others.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import click

from devices.config import MqttEndpoint, VillageSettings
from devices.errors import ContractError, RegistryError
from devices.registry import Registry, parse_registry
from devices.topics import Channel, Topic
from village.broker_auth import (
    INGEST_USER,
    MONITOR_USER,
    SIMULATOR_USER,
    Account,
    accounts_for,
    format_acl,
    format_password_file,
    hash_password,
    new_password,
    parse_password_file,
)
from village.errors import ProvisionError

SERVICE_URL = "mqtts://mosquitto:8883"
"""How the compose stack's containers reach the broker (service name and TLS port in docker-compose.yml)."""


@dataclass(frozen=True, slots=True)
class MqttSecrets:
    """The files provisioning owns, under one directory (DATA_DIR/mqtt); every directory is 0700."""

    root: Path

    @property
    def broker_dir(self) -> Path:
        """What the broker reads (hashes and ACL): mounted read-only into the mosquitto container."""
        return self.root / "broker"

    @property
    def password_file(self) -> Path:
        return self.broker_dir / "passwd"

    @property
    def acl_file(self) -> Path:
        return self.broker_dir / "acl"

    def service_env(self, username: str) -> Path:
        """A service's credentials as an env file for `env_file:` in docker-compose.yml."""
        return self.root / "services" / f"{username.lstrip('_')}.env"

    def device_sheet(self, device_id: str) -> Path:
        """What to flash onto one board."""
        return self.root / "devices" / f"{device_id}.env"


@dataclass(frozen=True, slots=True)
class ProvisionResult:
    """What changed; `passwords` holds the clear text of created and rotated logins only."""

    created: tuple[str, ...]
    rotated: tuple[str, ...]
    revoked: tuple[str, ...]
    kept: tuple[str, ...]
    passwords: Mapping[str, str]


def provision(
    registry: Registry,
    secrets: MqttSecrets,
    *,
    rotate: Collection[str] = (),
    simulator: bool | None = None,
    service_url: str = SERVICE_URL,
    device_url: str | None = None,
    now: datetime | None = None,
) -> ProvisionResult:
    """Bring the broker's password and ACL files in line with the registry.

    New logins get a password; `rotate` names logins that get a new one; logins no longer in the registry are
    revoked. A service login whose env file is missing is rotated, since nobody else knows its password.
    `simulator` None keeps the demo simulator login as it is.

    Raises:
        ProvisionError: `rotate` names an unknown login or a URL is invalid; nothing was written.
    """
    service_endpoint = _endpoint(service_url, "service URL")
    if device_url is not None:
        _endpoint(device_url, "device URL")
    with _locked(secrets.root):
        existing = _read_password_file(secrets.password_file)
        wanted = accounts_for(registry, simulator=SIMULATOR_USER in existing if simulator is None else simulator)
        names = {account.username for account in wanted}
        unknown = sorted(set(rotate) - names)
        if unknown:
            raise ProvisionError(f"cannot rotate {', '.join(unknown)}: not in the registry or not a service login")
        entries: dict[str, str] = {}
        passwords: dict[str, str] = {}
        for account in wanted:
            name = account.username
            lost = account.service and not secrets.service_env(name).exists()
            if name in existing and name not in rotate and not lost:
                entries[name] = existing[name]
                continue
            passwords[name] = new_password()
            entries[name] = hash_password(passwords[name])
        stamp = (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
        for account in wanted:  # the clear text first: a crash before the broker files leaves them unused
            if account.username in passwords:
                text = (
                    _service_env(account.username, passwords[account.username], service_endpoint)
                    if account.service
                    else _device_sheet(registry, account, passwords[account.username], device_url, stamp)
                )
                _write_private(_clear_text_path(secrets, account), text)
        _write_private(secrets.password_file, format_password_file(entries))
        _write_private(secrets.acl_file, format_acl(wanted))
        revoked = tuple(sorted(set(existing) - names))
        for name in revoked:
            for path in (secrets.service_env(name), secrets.device_sheet(name)):
                path.unlink(missing_ok=True)
    return ProvisionResult(
        created=tuple(n for n in passwords if n not in existing),
        rotated=tuple(n for n in passwords if n in existing),
        revoked=revoked,
        kept=tuple(n for n in entries if n not in passwords),
        passwords=passwords,
    )


def _endpoint(url: str, what: str) -> MqttEndpoint:
    try:
        return MqttEndpoint.parse(url)
    except ContractError as exc:
        raise ProvisionError(f"{what}: {exc}") from exc


def _read_password_file(path: Path) -> dict[str, str]:
    try:
        return parse_password_file(path.read_text())
    except FileNotFoundError:
        return {}


def _clear_text_path(secrets: MqttSecrets, account: Account) -> Path:
    return secrets.service_env(account.username) if account.service else secrets.device_sheet(account.username)


def _service_env(username: str, password: str, endpoint: MqttEndpoint) -> str:
    header = f"# Broker login {username}, generated by `village devices provision`. Keep private.\n"
    if username == MONITOR_USER:  # read by the mosquitto container's healthcheck
        return f"{header}MQTT_MONITOR_USERNAME={username}\nMQTT_MONITOR_PASSWORD={password}\n"
    scheme = "mqtts" if endpoint.tls else "mqtt"
    url = f"{scheme}://{quote(username, safe='')}:{quote(password, safe='')}@{endpoint.host}:{endpoint.port}"
    return f"{header}VILLAGE_MQTT_URL={url}\n"


def _device_sheet(registry: Registry, account: Account, password: str, device_url: str | None, stamp: str) -> str:
    device = registry.by_id[account.username]

    def topic(channel: Channel) -> str:
        return str(Topic(village=device.village, device=device.id, channel=channel))

    lines = [
        f"# MQTT login of device {device.id} in village {device.village}, generated {stamp}.",
        "# Flash it onto the board with the CA certificate (tls/ca.crt), then store this file safely or delete it:",
        f"# the broker keeps only a hash. Lost? Run: village devices provision --rotate {device.id}",
        *([f"MQTT_URL={device_url}"] if device_url else []),
        f"MQTT_CLIENT_ID={device.id}",
        f"MQTT_USERNAME={device.id}",
        f"MQTT_PASSWORD={password}",
        f"TOPIC_TELEMETRY={topic(Channel.TELEMETRY)}",
        f"TOPIC_SENML={topic(Channel.SENML)}",
        "# retained; also the last will, with payload offline",
        f"TOPIC_STATUS={topic(Channel.STATUS)}",
        "# subscribe to see why the ingestor refused a payload",
        f"TOPIC_REJECTED={topic(Channel.REJECTED)}",
    ]
    return "\n".join(lines) + "\n"


def _private_dir(path: Path) -> None:
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.chmod(0o700)


def _write_private(path: Path, text: str) -> None:
    """Write atomically with mode 0600 from the first byte (no window where the file is readable by others)."""
    _private_dir(path.parent)
    temporary = path.with_name(f".{path.name}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, text.encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    temporary.replace(path)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


@contextlib.contextmanager
def _locked(root: Path) -> Iterator[None]:
    """One provisioning at a time per site, so two officers cannot interleave their writes."""
    _private_dir(root)
    with (root / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


@click.command("provision")
@click.option(
    "--rotate",
    multiple=True,
    metavar="LOGIN",
    help="Give this device (or service login, e.g. _ingest) a new password; repeat for several.",
)
@click.option(
    "--simulator/--no-simulator",
    default=None,
    help="Add (or remove) the _simulator login, which may publish for EVERY device: demonstrations only. "
    "Default: keep as is.",
)
@click.option("--service-url", default=SERVICE_URL, show_default=True, help="Broker URL the stack's containers use.")
@click.option("--device-url", help="Broker URL the boards use (e.g. mqtts://iot.example.vn:8883), for their sheets.")
def provision_command(
    rotate: tuple[str, ...],
    simulator: bool | None,  # noqa: FBT001 - click passes every option as an argument
    service_url: str,
    device_url: str | None,
) -> None:
    """Generate the broker's password and ACL files from the registry (VILLAGE_REGISTRY_FILE).

    New devices' passwords are printed once and saved with mode 0600 under VILLAGE_DATA_DIR/mqtt/devices.
    """
    settings = VillageSettings()
    try:
        registry = parse_registry(settings.registry_path.read_text())
    except FileNotFoundError as exc:
        raise click.ClickException(f"no device registry at {settings.registry_path}; add devices first") from exc
    except RegistryError as exc:
        raise click.ClickException(f"{settings.registry_path}: {exc}") from exc
    secrets = MqttSecrets(settings.data_dir / "mqtt")
    try:
        result = provision(
            registry, secrets, rotate=rotate, simulator=simulator, service_url=service_url, device_url=device_url
        )
    except ProvisionError as exc:
        raise click.ClickException(str(exc)) from exc
    _report(result, secrets)


def _report(result: ProvisionResult, secrets: MqttSecrets) -> None:
    shown = [name for name in result.passwords if not name.startswith("_")]
    if shown:
        click.echo("New passwords (shown once; also saved with mode 0600 for flashing):")
        width = max(len(name) for name in shown)
        for name in shown:
            click.echo(f"  {name:<{width}}  {result.passwords[name]}  {secrets.device_sheet(name)}")
    for name in (n for n in result.passwords if n.startswith("_")):
        click.echo(f"Service login {name}: new password in {secrets.service_env(name)}")
    if result.revoked:
        click.echo(f"Revoked (no longer in the registry): {', '.join(result.revoked)}")
    click.echo(f"Unchanged: {len(result.kept)} logins. Wrote {secrets.password_file} and {secrets.acl_file}.")
    if result.passwords or result.revoked:
        click.echo("Apply: docker compose kill -s HUP mosquitto   (reloads logins and ACL; connections stay up)")
    if any(name in result.passwords for name in (INGEST_USER, SIMULATOR_USER, MONITOR_USER)):
        click.echo("Then:  docker compose up -d   (recreates the containers whose credentials changed)")
