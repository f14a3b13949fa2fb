"""A village install on disk and its broker, run from the files docker-compose.yml uses.

The broker is the real mosquitto started by deploy/mosquitto/entrypoint.sh with deploy/mosquitto/mosquitto.conf,
only its container paths and ports rewritten, so the tests exercise what production runs. As root (CI), the
entrypoint hands the files to the `mosquitto` user and mosquitto drops privileges, as in the container.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from devices.registry import RegisteredDevice, Registry, Village, format_registry
from ingest.settings import IngestSettings
from tests.conftest import RunningIngestor
from tests.helpers import unique_id
from village.processes import ManagedProcess, accepts_connections, child_environment, free_port, spawn, wait_until
from village.provision import MqttSecrets, ProvisionResult, provision
from village.services import require_binary

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
MAKE_CERTS = DEPLOY / "make-certs.sh"
ENTRYPOINT = DEPLOY / "mosquitto" / "entrypoint.sh"
BROKER_CONFIG = DEPLOY / "mosquitto" / "mosquitto.conf"


def make_certificates(data_dir: Path, *names: str, renew: bool = False) -> subprocess.CompletedProcess[str]:
    """Run deploy/make-certs.sh for a site (real openssl)."""
    argv = [str(MAKE_CERTS), "--data-dir", str(data_dir), *(["--renew"] if renew else []), *names]
    return subprocess.run(argv, capture_output=True, text=True, check=False, timeout=60)


def registry_of(village_devices: dict[str, list[str]]) -> Registry:
    """A registry with these devices in these villages (water boards near Thủ Dầu Một)."""
    return Registry(
        villages=tuple(Village(id=v, name=v, lat=11.0, lon=106.6) for v in village_devices),
        devices=tuple(
            RegisteredDevice(id=d, village=v, kind="water", name=f"board {d}", lat=11.0, lon=106.6)
            for v, devices in village_devices.items()
            for d in devices
        ),
    )


@dataclass
class Site:
    """VILLAGE_DATA_DIR of one install: registry, certificates, generated MQTT secrets."""

    data_dir: Path
    registry: Registry
    passwords: dict[str, str] = field(default_factory=dict)
    """The clear text of every login provisioned so far, as the officer would have noted them."""

    @property
    def secrets(self) -> MqttSecrets:
        return MqttSecrets(self.data_dir / "mqtt")

    @property
    def ca_file(self) -> Path:
        return self.data_dir / "tls" / "ca.crt"

    def write_registry(self, registry: Registry) -> None:
        self.registry = registry
        self.data_dir.mkdir(parents=True, exist_ok=True)
        (self.data_dir / "registry.toml").write_text(format_registry(registry))

    def provision(self, **options: object) -> ProvisionResult:
        result = provision(self.registry, self.secrets, **options)  # type: ignore[arg-type]
        self.passwords.update(result.passwords)
        for name in result.revoked:
            self.passwords.pop(name, None)
        return result


@dataclass
class ProductionBroker:
    """The entrypoint (a shell) and, below it, mosquitto, in a work directory that outlives restarts."""

    process: ManagedProcess
    tls_port: int
    plain_port: int
    work_dir: Path
    env: dict[str, str]

    def url(self, username: str, password: str, *, tls: bool = True) -> str:
        scheme, port = ("mqtts", self.tls_port) if tls else ("mqtt", self.plain_port)
        return f"{scheme}://{quote(username, safe='')}:{quote(password, safe='')}@localhost:{port}"

    def reload(self) -> None:
        """What `docker compose kill -s HUP mosquitto` does: SIGHUP to the entrypoint."""
        os.kill(self.process.pid, signal.SIGHUP)

    def start(self, *, timeout_s: float = 10.0) -> None:
        """Start again on the same ports and data, as `docker compose start mosquitto` does."""
        self.process = _spawn_entrypoint(self.work_dir, self.env)
        self.wait_ready(timeout_s=timeout_s)

    def wait_ready(self, *, timeout_s: float = 10.0) -> None:
        for port in (self.tls_port, self.plain_port):
            wait_until(
                lambda p=port: accepts_connections(p), timeout_s=timeout_s, what="mosquitto", process=self.process
            )

    def halt(self) -> int | None:
        """Stop as `docker compose stop` does (SIGTERM to the entrypoint); the data stays."""
        code = self.process.stop()
        with contextlib.suppress(ProcessLookupError):  # the broker below the shell, had the shell been killed
            os.killpg(self.process.pid, signal.SIGKILL)
        return code

    def stop(self) -> int | None:
        code = self.halt()
        shutil.rmtree(self.work_dir, ignore_errors=True)
        return code


def broker_user() -> str:
    """Who owns the broker's copies: `mosquitto` when we are root (it drops privileges to it), else ourselves."""
    if os.geteuid() != 0:
        return pwd.getpwuid(os.geteuid()).pw_name
    pwd.getpwnam("mosquitto")  # KeyError: the Debian package creates this user; install mosquitto
    return "mosquitto"


def local_broker_config(*, run_dir: Path, data_dir: Path, tls_port: int, plain_port: int) -> str:
    """deploy/mosquitto/mosquitto.conf with its container paths and listener ports rewritten for this machine."""
    text = BROKER_CONFIG.read_text()
    text = text.replace("/mosquitto/auth/", f"{run_dir}/").replace("/mosquitto/data/", f"{data_dir}/")
    text, tls = re.subn(r"^listener 8883$", f"listener {tls_port} 127.0.0.1", text, flags=re.MULTILINE)
    text, plain = re.subn(r"^listener 1883$", f"listener {plain_port} 127.0.0.1", text, flags=re.MULTILINE)
    assert (tls, plain) == (1, 1), "the production config must keep one `listener 8883` and one `listener 1883`"
    settings = [line for line in text.splitlines() if not line.startswith("#")]
    assert not [line for line in settings if "/mosquitto/" in line], "a container path was not rewritten"
    return text


def start_production_broker(site: Site, *, timeout_s: float = 10.0) -> ProductionBroker:
    """Run the entrypoint as docker-compose.yml does, with the site's broker and TLS directories mounted."""
    work_dir = Path(tempfile.mkdtemp(prefix="village-broker-"))
    work_dir.chmod(0o755)  # mosquitto, after dropping root, must reach its copies inside
    tls_port, plain_port = free_port(), free_port()
    config = work_dir / "mosquitto.conf"
    try:
        text = local_broker_config(
            run_dir=work_dir / "auth", data_dir=work_dir / "data", tls_port=tls_port, plain_port=plain_port
        )
    except BaseException:
        shutil.rmtree(work_dir)
        raise
    config.write_text(text)
    env = child_environment(
        VILLAGE_BROKER_AUTH_SRC=str(site.secrets.broker_dir),
        VILLAGE_BROKER_TLS_SRC=str(site.data_dir / "tls"),
        VILLAGE_BROKER_RUN_DIR=str(work_dir / "auth"),
        VILLAGE_BROKER_DATA_DIR=str(work_dir / "data"),
        VILLAGE_BROKER_CONFIG=str(config),
        VILLAGE_BROKER_BINARY=require_binary("mosquitto"),
        VILLAGE_BROKER_USER=broker_user(),
    )
    broker = ProductionBroker(_spawn_entrypoint(work_dir, env), tls_port, plain_port, work_dir, env)
    try:
        broker.wait_ready(timeout_s=timeout_s)
    except BaseException:
        broker.stop()
        raise
    return broker


def _spawn_entrypoint(work_dir: Path, env: dict[str, str]) -> ManagedProcess:
    """As docker starts it: with SIGHUP at its default. A test session run under `nohup` would hand the ignored
    SIGHUP down, and a shell cannot trap a signal ignored on entry: the reload would never happen."""
    command = ["env", "--default-signal=HUP", "/bin/sh", str(ENTRYPOINT)]
    return spawn("mosquitto-entrypoint", command, log_path=work_dir / "broker.log", env=env)


def service_url(site: Site, broker: ProductionBroker, username: str) -> str:
    """The URL the compose stack hands the service (its env file), pointed at this machine's broker."""
    env = site.secrets.service_env(username).read_text()
    url = next(line.split("=", 1)[1] for line in env.splitlines() if line.startswith("VILLAGE_MQTT_URL="))
    assert url.endswith("@mosquitto:8883"), url
    return url.replace("@mosquitto:8883", f"@localhost:{broker.tls_port}")


@contextmanager
def tls_ingestor(
    site: Site, broker: ProductionBroker, influx_url: str, database: str, tmp_path: Path, **extra: object
) -> Iterator[RunningIngestor]:
    """The ingestor with its generated login, over TLS, trusting the generated CA."""
    settings = IngestSettings(
        _env_file=None,  # type: ignore[call-arg]
        mqtt_url=service_url(site, broker, "_ingest"),
        mqtt_ca_file=site.ca_file,
        influx_url=influx_url,
        influx_db=database,
        data_dir=tmp_path / unique_id("ingest-data"),
        ingest_client_id=unique_id("ingest"),
        ingest_batch_max_wait_ms=50,
        **extra,  # type: ignore[arg-type]
    )
    running = RunningIngestor(settings).start()
    try:
        yield running
    finally:
        running.close()
