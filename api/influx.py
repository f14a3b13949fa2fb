"""Reads InfluxDB through the v1 `/query` API; every user value travels as a bound parameter."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

import httpx
import orjson

from api.errors import GatewayTimeout, Unavailable
from api.metrics import ApiMetrics
from devices.influxql import InfluxQueryError, ParamValue, Series, parse_results, query_form

logger = logging.getLogger(__name__)


class InfluxReader:
    """A thin async client: one place translates httpx and InfluxDB failures into API errors."""

    def __init__(self, client: httpx.AsyncClient, database: str, metrics: ApiMetrics | None = None) -> None:
        self._client = client
        self.database = database
        self._metrics = metrics or ApiMetrics()

    async def query(self, query: str, params: Mapping[str, ParamValue] | None = None) -> list[list[Series]]:
        """Run one or more `;`-separated statements.

        Raises:
            GatewayTimeout: InfluxDB did not answer within the configured timeout.
            Unavailable: InfluxDB is unreachable or failed the query.
        """
        body = await self.query_raw(query, params)
        try:
            return parse_results(body)
        except InfluxQueryError as exc:
            # InfluxDB 1.6 answers a multi-statement query on a missing database with "not executed" only.
            if ("database not found" in str(exc) or str(exc) == "not executed") and not await self._database_exists():
                return []  # nothing ingested yet: every read is empty, not an outage
            self._metrics.influx_failures.labels("error").inc()
            logger.error("InfluxDB refused a query: %s", exc)
            raise Unavailable("influxdb_error", "InfluxDB could not run the query") from exc

    async def query_rows(
        self, query: str, params: Mapping[str, ParamValue] | None = None
    ) -> list[tuple[Mapping[str, str], list[list[Any]]]]:
        """(tags, rows) of every series of a one-statement query, rows as InfluxDB sent them (no copy).

        The hot path of `/series`: converting ten thousand rows to tuples would cost more than the query.

        Raises:
            GatewayTimeout: InfluxDB did not answer within the configured timeout.
            Unavailable: InfluxDB is unreachable or failed the query.
        """
        data = orjson.loads(await self.query_raw(query, params))
        results = data.get("results") or [{}]
        if "error" in data or "error" in results[0]:
            return [(s.tags, [list(row) for row in s.values]) for s in (await self.query(query, params) or [[]])[0]]
        return [(s.get("tags") or {}, s.get("values") or []) for s in results[0].get("series", ())]

    async def query_optional(
        self, query: str, params: Mapping[str, ParamValue] | None = None
    ) -> list[list[Series]] | None:
        """Like `query`, but None when InfluxDB refuses a statement (say, a retention policy it does not have).

        Raises:
            GatewayTimeout: InfluxDB did not answer within the configured timeout.
            Unavailable: InfluxDB is unreachable or answered with an HTTP error.
        """
        try:
            return parse_results(await self.query_raw(query, params))
        except InfluxQueryError as exc:
            logger.debug("optional query refused: %s", exc)
            return None

    async def query_raw(self, query: str, params: Mapping[str, ParamValue] | None = None) -> bytes:
        """The raw JSON body of a `/query` answer (errors inside it are not checked here).

        Raises:
            GatewayTimeout: InfluxDB did not answer within the configured timeout.
            Unavailable: InfluxDB is unreachable or answered with an HTTP error.
        """
        started = time.perf_counter()
        try:
            response = await self._client.post("/query", data=query_form(query, database=self.database, params=params))
        except httpx.TimeoutException as exc:
            self._metrics.influx_failures.labels("timeout").inc()
            raise GatewayTimeout("influxdb_timeout", "InfluxDB did not answer in time; ask for less data") from exc
        except httpx.HTTPError as exc:
            self._metrics.influx_failures.labels("unreachable").inc()
            raise Unavailable("influxdb_unreachable", "InfluxDB is unreachable") from exc
        finally:
            self._metrics.influx_latency.observe(time.perf_counter() - started)
        if response.status_code >= 400:
            self._metrics.influx_failures.labels("error").inc()
            logger.error("InfluxDB answered %d: %s", response.status_code, response.text[:200])
            raise Unavailable("influxdb_error", f"InfluxDB answered {response.status_code}")
        return response.content

    async def _database_exists(self) -> bool:
        response = await self._client.post("/query", data={"q": "SHOW DATABASES"})
        names = {row[0] for series in parse_results(response.content)[0] for row in series.values}
        return self.database in names

    async def ping(self) -> bool:
        """Whether InfluxDB answers /ping."""
        try:
            return (await self._client.get("/ping")).status_code == 204
        except httpx.HTTPError:
            return False
