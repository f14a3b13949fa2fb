"""The one InfluxDB reader of `dashboards`: sends an expanded query the way Grafana's data source does (POST)."""

from __future__ import annotations

from types import TracebackType

import httpx

from devices.config import VillageSettings
from devices.influxql import InfluxQueryError, Series, parse_results, query_form


class InfluxReader:
    """`/query` on the v1 API with the configured credentials; errors come back as text, never raised."""

    def __init__(self, settings: VillageSettings, *, timeout_s: float = 30.0) -> None:
        headers = {}
        if settings.influx_token is not None:
            headers["Authorization"] = f"Token {settings.influx_token.get_secret_value()}"
        auth = None
        if settings.influx_username:
            password = settings.influx_password.get_secret_value() if settings.influx_password else ""
            auth = httpx.BasicAuth(settings.influx_username, password)
        self.database = settings.influx_db
        self._client = httpx.Client(base_url=settings.influx_url, auth=auth, headers=headers, timeout=timeout_s)

    def run(self, query: str) -> tuple[list[Series], str | None]:
        """The series of a one-statement query, or the error InfluxDB (or the network) reported."""
        try:
            response = self._client.post("/query", data=query_form(query, database=self.database))
        except httpx.HTTPError as exc:
            return [], f"InfluxDB unreachable: {exc}"
        if response.status_code >= 400 and not response.content.startswith(b"{"):
            return [], f"HTTP {response.status_code}: {response.text[:300]}"
        try:
            results = parse_results(response.content)
        except InfluxQueryError as exc:
            return [], str(exc)
        return (results[0] if results else []), None

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self._client.close()

    def __enter__(self) -> InfluxReader:
        return self

    def __exit__(
        self, _type: type[BaseException] | None, _value: BaseException | None, _tb: TracebackType | None
    ) -> None:
        self.close()
