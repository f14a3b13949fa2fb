"""Settings of `village dashboards`: the shared VILLAGE_* variables plus where Grafana is, for `push`."""

from __future__ import annotations

from pydantic import Field, SecretStr

from devices.config import VillageSettings


class DashboardSettings(VillageSettings):
    """`check` reads InfluxDB with the shared VILLAGE_INFLUX_*; `push` also needs a Grafana and credentials."""

    grafana_url: str = Field("http://127.0.0.1:3000", description="Grafana base URL for `push`")
    grafana_token: SecretStr | None = Field(None, description="Grafana service-account token (preferred)")
    grafana_user: str | None = Field(None, description="Grafana user for basic auth, when no token is set")
    grafana_password: SecretStr | None = None
