"""Settings shared by every service (DESIGN.md §6), read from VILLAGE_* variables or a `.env` file.

Each service subclasses VillageSettings with its own options; `main()` builds the settings once and passes them
down, so nothing below an entry point reads the environment.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import unquote, urlsplit

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from devices.errors import ContractError
from devices.ids import check_identifier

MQTT_DEFAULT_PORTS = {"mqtt": 1883, "mqtts": 8883}


@dataclass(frozen=True, slots=True)
class MqttEndpoint:
    """Where the broker is and how to log in: parsed from `mqtt[s]://[user:pass@]host[:port]`."""

    host: str
    port: int
    tls: bool
    username: str | None = None
    password: str | None = None

    @classmethod
    def parse(cls, url: str) -> MqttEndpoint:
        """Parse a broker URL.

        Raises:
            ContractError: the scheme is not mqtt/mqtts or the host is missing.
        """
        parts = urlsplit(url)
        if parts.scheme not in MQTT_DEFAULT_PORTS:
            raise ContractError(f"broker URL {url!r}: scheme must be mqtt:// or mqtts://")
        if not parts.hostname:
            raise ContractError(f"broker URL {url!r} has no host")
        return cls(
            host=parts.hostname,
            port=parts.port or MQTT_DEFAULT_PORTS[parts.scheme],
            tls=parts.scheme == "mqtts",
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
        )

    def __str__(self) -> str:
        """The URL without the password, safe to log."""
        user = f"{self.username}@" if self.username else ""
        return f"{'mqtts' if self.tls else 'mqtt'}://{user}{self.host}:{self.port}"


def default_client_id() -> str:
    """A stable client id per host, so an ingestor's persistent session survives its restarts."""
    host = "".join(c if c.isalnum() else "-" for c in socket.gethostname().lower()).strip("-")
    return f"village-ingest-{host or 'local'}"[:64]


class VillageSettings(BaseSettings):
    """The variables every service understands."""

    model_config = SettingsConfigDict(env_prefix="VILLAGE_", env_file=".env", extra="ignore", frozen=True)

    mqtt_url: str = Field("mqtt://127.0.0.1:1883", description="broker, mqtt:// or mqtts://, user:pass@ allowed")
    mqtt_ca_file: Path | None = Field(None, description="CA certificate that signed the broker's TLS certificate")
    influx_url: str = Field("http://127.0.0.1:8086", description="InfluxDB base URL (v1 HTTP API)")
    influx_db: str = Field("village", description="InfluxDB database")
    influx_username: str | None = None
    influx_password: SecretStr | None = None
    influx_token: SecretStr | None = Field(None, description="InfluxDB 2.x/3.x token for the v1-compatible API")
    data_dir: Path = Field(Path(".village"), description="spool, rejected store, registry and local stack data")
    registry_file: Path | None = Field(None, description="device registry (TOML); default DATA_DIR/registry.toml")

    @field_validator("influx_db")
    @classmethod
    def _safe_database(cls, value: str) -> str:
        return check_identifier(value, what="database")

    @property
    def mqtt(self) -> MqttEndpoint:
        """The parsed broker URL."""
        return MqttEndpoint.parse(self.mqtt_url)

    @property
    def registry_path(self) -> Path:
        """Where the device registry lives."""
        return self.registry_file or self.data_dir / "registry.toml"

    def influx_auth_headers(self) -> dict[str, str]:
        """HTTP headers that authenticate against InfluxDB 1.x (basic) or 2.x/3.x (token)."""
        if self.influx_token is not None:
            return {"Authorization": f"Token {self.influx_token.get_secret_value()}"}
        return {}

    def influx_basic_auth(self) -> tuple[str, str] | None:
        """(user, password) for InfluxDB 1.x basic auth, when configured."""
        if self.influx_username and self.influx_password is not None:
            return (self.influx_username, self.influx_password.get_secret_value())
        return None


UnknownDevicePolicy = Literal["accept", "reject"]
