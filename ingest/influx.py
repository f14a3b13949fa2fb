"""InfluxDB through the v1 HTTP API: create the schema, write line protocol, and say exactly what happened."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import httpx

from devices.config import VillageSettings
from devices.influxql import InfluxQueryError, parse_results, query_form
from devices.schema import STATUS, TAG_DEVICE, TAG_VILLAGE, quote_identifier, schema_statements
from ingest.errors import InfluxRefused, InfluxUnavailable

logger = logging.getLogger(__name__)


class InfluxWriter:
    """Writes batches in millisecond precision; translates every httpx failure once, here."""

    def __init__(self, settings: VillageSettings, *, timeout_s: float) -> None:
        self._db = settings.influx_db
        self._client = httpx.Client(
            base_url=settings.influx_url,
            headers=settings.influx_auth_headers(),
            auth=settings.influx_basic_auth(),
            timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, 3.0)),
        )

    def close(self) -> None:
        """Release the connection pool."""
        self._client.close()

    def ensure_schema(self) -> None:
        """Create the database, downsampling tiers and continuous queries (idempotent).

        Raises:
            InfluxUnavailable: InfluxDB cannot be reached now.
            InfluxRefused: a statement was refused (for instance, no admin rights).
        """
        for statement in schema_statements(self._db):
            response = self._post("/query", data=query_form(statement, database=self._db))
            try:
                parse_results(response.content)
            except InfluxQueryError as exc:
                raise InfluxRefused(response.status_code, str(exc)) from exc

    def write(self, lines: Sequence[str]) -> None:
        """Write lines; returns only when InfluxDB stored all of them.

        Raises:
            InfluxUnavailable: nothing can be assumed stored; keep the lines.
            InfluxRefused: 4xx; for a 400 "partial write" the other lines of the request were stored.
        """
        if not lines:
            return
        body = ("\n".join(lines) + "\n").encode()
        params = {"db": self._db, "precision": "ms"}
        response = self._post("/write", params=params, content=body)
        if response.status_code == 404 and "database not found" in response.text:
            logger.warning("database %s is missing; creating it again", self._db)
            self.ensure_schema()
            response = self._post("/write", params=params, content=body)
        if response.status_code >= 400:
            raise InfluxRefused(response.status_code, response.text)

    def last_statuses(self) -> dict[tuple[str, str], bool]:
        """The last stored `online` state of every device, by (village, device).

        Raises:
            InfluxUnavailable: InfluxDB cannot be reached now.
            InfluxRefused: the query was refused.
        """
        query = (
            f"SELECT last({quote_identifier('online')}) FROM {quote_identifier(STATUS)} "
            f"GROUP BY {quote_identifier(TAG_VILLAGE)}, {quote_identifier(TAG_DEVICE)}"
        )
        response = self._post("/query", data=query_form(query, database=self._db))
        try:
            results = parse_results(response.content)
        except InfluxQueryError as exc:
            raise InfluxRefused(response.status_code, str(exc)) from exc
        states: dict[tuple[str, str], bool] = {}
        for series in results[0] if results else ():
            for record in series.records():
                states[(series.tags.get(TAG_VILLAGE, ""), series.tags.get(TAG_DEVICE, ""))] = bool(record["last"])
        return states

    def ping(self) -> bool:
        """Whether InfluxDB answers its health endpoint."""
        try:
            return self._client.get("/ping").status_code == 204
        except httpx.HTTPError:
            return False

    def _post(self, path: str, **kwargs: object) -> httpx.Response:
        try:
            response = self._client.post(path, **kwargs)  # type: ignore[arg-type]
        except httpx.HTTPError as exc:
            raise InfluxUnavailable(f"InfluxDB unreachable: {exc.__class__.__name__}: {exc}") from exc
        if response.status_code >= 500:
            raise InfluxUnavailable(f"InfluxDB answered {response.status_code}: {response.text[:200]}")
        return response
