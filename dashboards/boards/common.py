"""What every dashboard shares: time range, refresh, links, the village/device variables and panel ids.

Wall screens run unattended: dashboards refresh every minute, show Vietnam time whatever the browser's zone,
and link to each other through a dropdown that keeps the selected villages and time range.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from grafana_foundation_sdk.builders import dashboard as builders
from grafana_foundation_sdk.builders import timeseries
from grafana_foundation_sdk.builders.dashboard import ThresholdsConfig
from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.models import dashboard as model

from dashboards import panels, units
from dashboards.datasources import INFLUX
from dashboards.influxql import InfluxQL, aggregate_over_time
from devices.quantities import QUANTITIES
from devices.registry import Registry
from devices.schema import TAG_DEVICE, TAG_VILLAGE, quote_identifier

TAG = "smart-village"
TIMEZONE = "Asia/Ho_Chi_Minh"
REFRESH = "1m"
FOLDER = "Làng thông minh"
"""Grafana folder (title) holding the dashboards and the alert rules."""


@dataclass(frozen=True, slots=True)
class BuildContext:
    """Inputs of a build besides the code: the station registry and the day (limits change on set dates)."""

    registry: Registry
    today: date


def village_variable() -> builders.QueryVariable:
    """`$village`: every village tag in InfluxDB, several selectable, All by default."""
    return _variable(TAG_VILLAGE, "Xã", f"SHOW TAG VALUES WITH KEY = {quote_identifier(TAG_VILLAGE)}")


def device_variable(measurement: str) -> builders.QueryVariable:
    """`$device`: the boards writing `measurement` in the selected villages."""
    query = (
        f"SHOW TAG VALUES FROM {quote_identifier(measurement)} WITH KEY = {quote_identifier(TAG_DEVICE)} "
        f"WHERE {quote_identifier(TAG_VILLAGE)} =~ /^$village$/"
    )
    return _variable(TAG_DEVICE, "Trạm", query)


def _variable(name: str, label: str, query: str) -> builders.QueryVariable:
    return (
        builders.QueryVariable(name)
        .label(label)
        .query(query)
        .datasource(INFLUX)
        .multi(True)
        .include_all(True)
        .current(model.VariableOption(selected=True, text=["All"], value=["$__all"]))
        .refresh(model.VariableRefresh.ON_DASHBOARD_LOAD)
        .sort(model.VariableSort.ALPHABETICAL_ASC)
    )


def new_dashboard(uid: str, title: str, description: str, *, time_from: str = "now-24h") -> builders.Dashboard:
    """A dashboard with the shared settings; `title` is Vietnamese, `description` English."""
    return (
        builders.Dashboard(title)
        .uid(uid)
        .description(description)
        .tags([TAG])
        .time(time_from, "now")
        .timezone(TIMEZONE)
        .refresh(REFRESH)
        .readonly()
        .tooltip(model.DashboardCursorSync.CROSSHAIR)
        .link(
            builders.DashboardLink("Làng thông minh")
            .type(model.DashboardLinkType.DASHBOARDS)
            .tags([TAG])
            .as_dropdown(True)
            .include_vars(True)
            .keep_time(True)
        )
    )


Row = tuple[str, Sequence[cogbuilder.Builder[model.Panel]]]


def add_rows(dashboard: builders.Dashboard, rows: Sequence[Row]) -> model.Dashboard:
    """Lay the rows out top to bottom and number rows and panels 1, 2, ... (ids are unique per dashboard)."""
    next_id = 1
    for title, row_panels in rows:
        dashboard.with_row(builders.Row(title).id(next_id))
        next_id += 1
        for panel in row_panels:
            built = panel.build()
            built.id_val = next_id
            next_id += 1
            dashboard.with_panel(_Built(built))
    return dashboard.build()


class _Built(cogbuilder.Builder[model.Panel]):
    """A panel already built (and numbered), handed to the SDK's layout."""

    def __init__(self, panel: model.Panel) -> None:
        self._panel = panel

    def build(self) -> model.Panel:
        return self._panel


def quantity_graph(
    measurement: str, quantity: str, description: str, steps: ThresholdsConfig, *, title: str | None = None
) -> timeseries.Panel:
    """Mean of `quantity` per board and interval, titled with the catalogue's Vietnamese label."""
    return panels.graph(
        title or QUANTITIES[quantity].label_vi,
        description,
        unit=units.GRAFANA_UNIT[quantity],
        steps=steps,
        targets=[InfluxQL(aggregate_over_time(measurement, [quantity])).alias("$tag_device")],
    )
