"""The schema statements run on real InfluxDB, are idempotent, and keep raw data visible to plain queries."""

from __future__ import annotations

import httpx

from devices.influxql import parse_results, query_form
from devices.quantities import CATALOGUE
from devices.schema import MEASUREMENTS, TIERS, schema_statements
from tests.helpers import influx_rows


def test_every_quantity_is_a_field_of_its_domain_measurement() -> None:
    for quantity in CATALOGUE:
        assert quantity.name in MEASUREMENTS[quantity.domain.value].fields


def test_statements_are_idempotent_and_tiers_are_not_default(influxdb, database_name) -> None:
    for _ in range(2):
        for statement in schema_statements(database_name):
            response = httpx.post(f"{influxdb.url}/query", data=query_form(statement, database=database_name))
            parse_results(response.content)  # raises on any statement error
    policies = influx_rows(influxdb.url, database_name, f'SHOW RETENTION POLICIES ON "{database_name}"')
    by_name = {p["name"]: p for p in policies}
    assert by_name["autogen"]["default"] is True
    assert {t.retention_policy for t in TIERS} <= set(by_name)
    assert not any(by_name[t.retention_policy]["default"] for t in TIERS)
    queries = influx_rows(influxdb.url, database_name, "SHOW CONTINUOUS QUERIES")
    assert {q["name"] for q in queries} >= {f"cq_{t.retention_policy}" for t in TIERS}
