"""Reads InfluxDB through the v1 `/query` API; every user value travels as a bound parameter."""

from __future__ import annotations

from collections.abc import Mapping

import httpx

from api.errors import Unavailable
from devices.influxql import InfluxQueryError, ParamValue, Series, parse_results, query_form


class InfluxReader:
    """A thin async client: one place translates httpx and InfluxDB failures into API errors."""

    def __init__(self, client: httpx.AsyncClient, database: str) -> None:
        self._client = client
        self._database = database

    async def query(self, query: str, params: Mapping[str, ParamValue] | None = None) -> list[list[Series]]:
        """Run one or more `;`-separated statements.

        Raises:
            Unavailable: InfluxDB is unreachable, timed out, or failed the query.
        """
        try:
            response = await self._client.post("/query", data=query_form(query, database=self._database, params=params))
        except httpx.TimeoutException as exc:
            raise Unavailable("influxdb_timeout", "InfluxDB did not answer in time") from exc
        except httpx.HTTPError as exc:
            raise Unavailable("influxdb_unreachable", "InfluxDB is unreachable") from exc
        if response.status_code >= 400:
            raise Unavailable("influxdb_error", f"InfluxDB answered {response.status_code}")
        try:
            return parse_results(response.content)
        except InfluxQueryError as exc:
            # InfluxDB 1.6 answers a multi-statement query on a missing database with "not executed" only.
            if ("database not found" in str(exc) or str(exc) == "not executed") and not await self._database_exists():
                return []  # nothing ingested yet: every read is empty, not an outage
            raise Unavailable("influxdb_error", "InfluxDB could not run the query") from exc

    async def _database_exists(self) -> bool:
        response = await self._client.post("/query", data={"q": "SHOW DATABASES"})
        names = {row[0] for series in parse_results(response.content)[0] for row in series.values}
        return self._database in names

    async def ping(self) -> bool:
        """Whether InfluxDB answers /ping."""
        try:
            return (await self._client.get("/ping")).status_code == 204
        except httpx.HTTPError:
            return False
