"""mosquitto and influxd started from the installed binaries with private config and data.

Used by `village up` and by the test session, so both run the broker and database configured the same way.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import httpx

from village.processes import ManagedProcess, accepts_connections, free_port, spawn, wait_until

INSTALL_HINT = "sudo apt-get install -y mosquitto mosquitto-clients influxdb"
_SBIN = "/usr/local/sbin:/usr/sbin:/sbin"


class MissingBinaryError(RuntimeError):
    """A service binary is not installed; the message says how to install it."""


def require_binary(name: str) -> str:
    """The full path of `name` (looking in sbin too, where Debian puts mosquitto).

    Raises:
        MissingBinaryError: with the install command.
    """
    found = shutil.which(name, path=f"{os.environ.get('PATH', '')}:{_SBIN}")
    if found is None:
        raise MissingBinaryError(f"{name} is not installed. On Debian/Ubuntu: {INSTALL_HINT}")
    return found


MOSQUITTO_LIMITS = """\
# Never drop QoS 1 data for a slow or absent subscriber. mosquitto's default max_queued_messages 1000
# silently drops the rest of a burst; the ingestor's persistent session must be able to queue hours of
# traffic while it is down. MQTT 5 clients set their own in-flight window (Receive Maximum); the
# max_inflight_messages value only applies to MQTT 3.1.1 clients.
max_inflight_messages 1000
max_queued_messages 2000000
max_queued_bytes 0
# Persistent sessions abandoned by clients that never return would otherwise queue forever.
persistent_client_expiration 14d
"""


def mosquitto_config(data_dir: Path, port: int) -> str:
    """A private broker on loopback with persistence and the queue limits the pipeline needs."""
    # Started as root, mosquitto switches to the `mosquitto` user, which cannot write a root-owned data directory
    # (nor reach one under /root or pytest's 0700 temporary directories): persistence then fails and queued
    # messages and persistent sessions are lost at every broker restart, said only in a log it cannot write
    # either. This private broker listens on loopback only, so it keeps the user that started it.
    run_as = "user root\n" if os.geteuid() == 0 else ""
    return (
        f"listener {port} 127.0.0.1\n"
        f"{run_as}"
        "allow_anonymous true\n"
        "persistence true\n"
        f"persistence_location {data_dir}/\n"
        "autosave_interval 10\n"
        f"log_dest file {data_dir / 'mosquitto.log'}\n"
        "log_type error\nlog_type warning\nlog_type notice\n" + MOSQUITTO_LIMITS
    )


def influxd_config(data_dir: Path, http_port: int, rpc_port: int) -> str:
    """A private InfluxDB 1.x on loopback: no reporting, no query log, no self-monitoring writes."""
    return f"""\
reporting-enabled = false
bind-address = "127.0.0.1:{rpc_port}"
[meta]
  dir = "{data_dir / "meta"}"
  logging-enabled = false
[data]
  dir = "{data_dir / "data"}"
  wal-dir = "{data_dir / "wal"}"
  query-log-enabled = false
[http]
  bind-address = "127.0.0.1:{http_port}"
  log-enabled = false
[monitor]
  store-enabled = false
[continuous_queries]
  log-enabled = false
"""


@dataclass
class RunningService:
    """A started service and the port it listens on."""

    process: ManagedProcess
    port: int
    data_dir: Path


@dataclass
class Broker(RunningService):
    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def restart(self, *, timeout_s: float = 10.0) -> None:
        """Stop and start the same broker on the same port and data (persistence survives)."""
        self.process.stop()
        self.process = _spawn_mosquitto(self.data_dir, self.port, timeout_s=timeout_s)

    def crash(self, *, lose_persistence: bool, timeout_s: float = 10.0) -> None:
        """SIGKILL (no last save), optionally delete the persistence file (a lost volume), then start again on the
        same port: the chaos suite measures what that costs."""
        self.process.kill()
        if lose_persistence:
            (self.data_dir / "mosquitto.db").unlink(missing_ok=True)
        self.process = _spawn_mosquitto(self.data_dir, self.port, timeout_s=timeout_s)


@dataclass
class Database(RunningService):
    rpc_port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def restart(self, *, timeout_s: float = 30.0) -> None:
        """Stop and start the same InfluxDB on the same ports and data."""
        self.process.stop()
        self.process = _spawn_influxd(self.data_dir, self.port, self.rpc_port, timeout_s=timeout_s)


def start_mosquitto(data_dir: Path, *, port: int | None = None, timeout_s: float = 10.0) -> Broker:
    """Start mosquitto on `port` (or a free one) and wait until it accepts connections."""
    port = port or free_port()
    return Broker(_spawn_mosquitto(data_dir, port, timeout_s=timeout_s), port, data_dir)


def _spawn_mosquitto(data_dir: Path, port: int, *, timeout_s: float) -> ManagedProcess:
    binary = require_binary("mosquitto")
    data_dir.mkdir(parents=True, exist_ok=True)
    config = data_dir / "mosquitto.conf"
    config.write_text(mosquitto_config(data_dir, port))
    process = spawn("mosquitto", [binary, "-c", str(config)], log_path=data_dir / "mosquitto.out")
    wait_until(
        lambda: accepts_connections(port), timeout_s=timeout_s, what=f"mosquitto on port {port}", process=process
    )
    return process


def start_influxd(data_dir: Path, *, port: int | None = None, timeout_s: float = 30.0) -> Database:
    """Start influxd on `port` (or a free one) and wait until /ping answers 204."""
    port = port or free_port()
    rpc_port = free_port()
    return Database(_spawn_influxd(data_dir, port, rpc_port, timeout_s=timeout_s), port, data_dir, rpc_port)


def _spawn_influxd(data_dir: Path, port: int, rpc_port: int, *, timeout_s: float) -> ManagedProcess:
    binary = require_binary("influxd")
    data_dir.mkdir(parents=True, exist_ok=True)
    config = data_dir / "influxdb.conf"
    config.write_text(influxd_config(data_dir, port, rpc_port))
    process = spawn("influxd", [binary, "-config", str(config)], log_path=data_dir / "influxd.log")

    def ready() -> bool:
        try:
            return httpx.get(f"http://127.0.0.1:{port}/ping", timeout=0.5).status_code == 204
        except httpx.HTTPError:
            return False

    wait_until(ready, timeout_s=timeout_s, what=f"influxd on port {port}", process=process)
    return process
