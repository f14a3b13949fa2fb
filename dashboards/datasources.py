"""The two Grafana data sources the dashboards use, with fixed uids so every panel and rule can name them.

InfluxDB (InfluxQL mode, POST) reads the measurements of `devices/schema.py`; its connection comes from the same
VILLAGE_INFLUX_* variables the services read, interpolated by Grafana's provisioning. The station registry is a
TestData source that only carries the CSV embedded in the geomap query (see `stations.py`).
"""

from __future__ import annotations

from typing import Any

from grafana_foundation_sdk.models.dashboard import DataSourceRef

INFLUX_UID = "village-influxdb"
INFLUX_TYPE = "influxdb"
INFLUX_NAME = "InfluxDB – Làng thông minh"
STATIONS_UID = "village-stations"
STATIONS_TYPE = "grafana-testdata-datasource"
STATIONS_NAME = "Sổ đăng ký trạm (tĩnh)"
EXPRESSION_UID = "__expr__"
"""Grafana's server-side expressions (reduce, threshold) in alert rules."""
MIN_INTERVAL = "1m"
"""Grafana's lower bound for `$__interval` (jsonData.timeInterval): boards report every minute or slower, so finer
buckets would only be empty."""

INFLUX = DataSourceRef(type_val=INFLUX_TYPE, uid=INFLUX_UID)
STATIONS = DataSourceRef(type_val=STATIONS_TYPE, uid=STATIONS_UID)
PROVISIONED_UIDS = frozenset({INFLUX_UID, STATIONS_UID})

ENV_URL = "VILLAGE_INFLUX_URL"
ENV_DB = "VILLAGE_INFLUX_DB"
ENV_USER = "VILLAGE_INFLUX_USERNAME"
ENV_PASSWORD = "VILLAGE_INFLUX_PASSWORD"  # noqa: S105 - the name of a variable, not a secret


def influx_datasource(*, url: str, database: str, user: str, password: str) -> dict[str, Any]:
    """The InfluxDB data source as Grafana's provisioning file and HTTP API both describe it."""
    return {
        "name": INFLUX_NAME,
        "type": INFLUX_TYPE,
        "uid": INFLUX_UID,
        "access": "proxy",
        "url": url,
        "user": user,
        "isDefault": True,
        "editable": False,
        "jsonData": {
            "dbName": database,
            "httpMode": "POST",
            "version": "InfluxQL",
            "timeInterval": MIN_INTERVAL,
        },
        "secureJsonData": {"password": password},
    }


def stations_datasource() -> dict[str, Any]:
    """The TestData source that serves the registry CSV embedded in the station map's query."""
    return {"name": STATIONS_NAME, "type": STATIONS_TYPE, "uid": STATIONS_UID, "access": "proxy", "editable": False}


def provisioning_datasources() -> dict[str, Any]:
    """`provisioning/datasources/village.yaml`: credentials stay in the environment, never in the file."""
    influx = influx_datasource(
        url=f"${{{ENV_URL}}}", database=f"${{{ENV_DB}}}", user=f"${{{ENV_USER}}}", password=f"${{{ENV_PASSWORD}}}"
    )
    return {"apiVersion": 1, "datasources": [{**influx, "orgId": 1}, {**stations_datasource(), "orgId": 1}]}
