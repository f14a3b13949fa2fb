"""Nông nghiệp (Agriculture): soil water first (what a farmer acts on), then soil chemistry, light and rain."""

from __future__ import annotations

from grafana_foundation_sdk.models import dashboard as model

from dashboards import panels, units
from dashboards.boards.common import (
    TIMEZONE,
    BuildContext,
    add_rows,
    device_variable,
    new_dashboard,
    quantity_graph,
    village_variable,
)
from dashboards.boards.overview import soil_thresholds
from dashboards.influxql import DEVICE_FILTER, VILLAGE_FILTER, InfluxQL, aggregate_over_time, aggregate_per_group
from dashboards.influxql import field_ref as f

UID = "village-agri"
MEASUREMENT = "agri"


def build(ctx: BuildContext) -> model.Dashboard:
    """The agriculture dashboard."""
    del ctx
    dashboard = (
        new_dashboard(UID, "Nông nghiệp", "Fields: soil moisture, temperature, conductivity, pH, light and rain.")
        .with_variable(village_variable())
        .with_variable(device_variable(MEASUREMENT))
    )
    moisture_now = f'last({f(MEASUREMENT, "soil_moisture")}) AS "soil_moisture"'
    return add_rows(
        dashboard,
        [
            (
                "Nước trong đất",
                [
                    quantity_graph(
                        MEASUREMENT,
                        "soil_moisture",
                        "Soil moisture per field sensor (% volumetric water content). Red below the wilting point "
                        "(13.8 %), blue above field capacity (32.1 %) of a loam (Saxton & Rawls 2006): a guide only.",
                        soil_thresholds(),
                    ),
                    panels.bars(
                        "Độ ẩm đất hiện tại",
                        "Latest soil moisture of each field sensor in the last hour, coloured as on the left.",
                        unit=units.GRAFANA_UNIT["soil_moisture"],
                        steps=soil_thresholds(),
                        maximum=60,
                        targets=[
                            InfluxQL(
                                aggregate_per_group(
                                    MEASUREMENT, [moisture_now], filters=(VILLAGE_FILTER, DEVICE_FILTER)
                                )
                            ).alias("$tag_device")
                        ],
                    ).time_from("1h"),
                    panels.graph(
                        "Lượng mưa theo giờ",
                        "Rain per hour at each gauge (sum of its readings).",
                        unit=units.GRAFANA_UNIT["rain"],
                        steps=panels.thresholds(panels.GREEN, (16, panels.YELLOW), (51, panels.RED)),
                        show_thresholds=False,
                        bars=True,
                        targets=[
                            InfluxQL(
                                aggregate_over_time(MEASUREMENT, ["rain"], aggregate="sum", every="1h", fill="0")
                            ).alias("$tag_device")
                        ],
                    ),
                    panels.graph(
                        "Lượng mưa theo ngày (30 ngày)",
                        "Rain per calendar day (Vietnam time) in each village over the last 30 days.",
                        unit=units.GRAFANA_UNIT["rain"],
                        steps=panels.thresholds(
                            panels.GREEN, (16, panels.YELLOW), (51, panels.ORANGE), (100.1, panels.RED)
                        ),
                        show_thresholds=False,
                        bars=True,
                        targets=[
                            InfluxQL(
                                aggregate_over_time(
                                    MEASUREMENT,
                                    ["rain"],
                                    aggregate="sum",
                                    filters=(VILLAGE_FILTER,),
                                    by=("village",),
                                    every="1d",
                                    fill="0",
                                    tz=TIMEZONE,
                                )
                            ).alias("$tag_village")
                        ],
                    ).time_from("30d"),
                ],
            ),
            (
                "Đất và ánh sáng",
                [
                    quantity_graph(
                        MEASUREMENT,
                        "soil_temp",
                        "Soil temperature at each field sensor; yellow outside 20-45 °C, the plausible range.",
                        panels.catalogue_thresholds("soil_temp"),
                    ),
                    quantity_graph(
                        MEASUREMENT,
                        "soil_ec",
                        "Soil electrical conductivity at each field sensor (salinity and fertiliser indicator).",
                        panels.catalogue_thresholds("soil_ec"),
                    ),
                    quantity_graph(
                        MEASUREMENT,
                        "soil_ph",
                        "Soil pH from the RS-485 probe (indicative: low-cost probes drift).",
                        panels.catalogue_thresholds("soil_ph"),
                    ),
                    quantity_graph(
                        MEASUREMENT,
                        "lux",
                        "Light at the field (lux); red marks the sensor's saturation (88,000 lx).",
                        panels.catalogue_thresholds("lux"),
                    ),
                ],
            ),
        ],
    )
