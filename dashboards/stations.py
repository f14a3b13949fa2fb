"""Where the stations are: the device registry turned into the static table the station map joins on `device`.

InfluxDB holds readings, not coordinates, so the map needs the registry. It is embedded in the dashboard as CSV
served by a TestData query, then joined with the live status and VN_AQI queries by device id. Embedding keeps
the dashboard self-contained (provisioning and `push` alike, no plugin to install, works offline); the price is
that a moved or added station needs `village dashboards build --registry FILE` to appear on the map.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from grafana_foundation_sdk.builders import testdata

from dashboards.datasources import STATIONS
from devices.registry import Registry, parse_registry

DEFAULT_REGISTRY = Path(__file__).with_name("stations.toml")
"""The registry the committed files are built from: the `demo` scenario `village up` simulates (4 communes,
60 boards); a test keeps it equal to what the simulator generates."""

COLUMNS = ("device", "name", "village", "village_name", "kind", "lat", "lon")
"""Columns of the station table; `lat` and `lon` are what the geomap's coords mode reads."""


def load_registry(path: Path = DEFAULT_REGISTRY) -> Registry:
    """The registry file the station table is built from.

    Raises:
        RegistryError: the file is not a valid registry.
    """
    return parse_registry(path.read_text(encoding="utf-8"))


def stations_csv(registry: Registry) -> str:
    """One CSV row per registered device, sorted by id so a rebuild is byte-identical."""
    village_names = {v.id: v.name for v in registry.villages}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for device in sorted(registry.devices, key=lambda d: d.id):
        writer.writerow(
            (device.id, device.name, device.village, village_names[device.village], device.kind, device.lat, device.lon)
        )
    return out.getvalue()


def stations_query(registry: Registry, *, ref_id: str = "STATIONS") -> testdata.Dataquery:
    """The TestData `csv_content` target carrying the station table."""
    return (
        testdata.Dataquery()
        .ref_id(ref_id)
        .datasource(STATIONS)
        .scenario_id("csv_content")
        .csv_content(stations_csv(registry))
    )
