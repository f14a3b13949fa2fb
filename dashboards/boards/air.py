"""Không khí (Air): particulates against QCVN 05:2023 and VN_AQI, then the climate a board measures."""

from __future__ import annotations

from grafana_foundation_sdk.builders import bargauge
from grafana_foundation_sdk.models import dashboard as model

from dashboards import limits, panels, units
from dashboards.boards.common import (
    BuildContext,
    add_rows,
    device_variable,
    new_dashboard,
    quantity_graph,
    village_variable,
)
from dashboards.boards.overview import AQI_LEGEND, aqi_select, aqi_thresholds
from dashboards.influxql import DEVICE_FILTER, VILLAGE_FILTER, InfluxQL, aggregate_per_group
from dashboards.influxql import field_ref as f
from devices.quantities import QUANTITIES

UID = "village-air"
MEASUREMENT = "air"


def mean_24h(quantity: str, limit: float, regulation: str) -> bargauge.Panel:
    """24-hour mean of a particulate per board against its QCVN 05:2023 limit."""
    select = f"mean({f(MEASUREMENT, quantity)}) AS {f(MEASUREMENT, quantity)}"
    return panels.bars(
        f"{QUANTITIES[quantity].label_en} trung bình 24 giờ so với QCVN 05:2023",
        f"{QUANTITIES[quantity].label_en} mean of the last 24 hours at each air station, against the {regulation} "
        f"24-hour limit of {limit:g} µg/Nm³ (red at or above it).",
        unit=units.GRAFANA_UNIT[quantity],
        steps=panels.thresholds(panels.GREEN, (limit, panels.RED)),
        targets=[
            InfluxQL(aggregate_per_group(MEASUREMENT, [select], filters=(VILLAGE_FILTER, DEVICE_FILTER))).alias(
                "$tag_device"
            )
        ],
    ).time_from("24h")


def build(ctx: BuildContext) -> model.Dashboard:
    """The air dashboard."""
    pm25_limit = limits.pm25_24h_limit(ctx.today)
    dashboard = (
        new_dashboard(UID, "Không khí", "Air quality: PM2.5/PM10 against QCVN 05:2023/BTNMT and VN_AQI, CO2, climate.")
        .with_variable(village_variable())
        .with_variable(device_variable(MEASUREMENT))
    )
    return add_rows(
        dashboard,
        [
            (
                "Bụi mịn",
                [
                    quantity_graph(
                        MEASUREMENT,
                        "pm25",
                        f"PM2.5 per air station. The dashed line is the QCVN 05:2023 24-hour limit ({pm25_limit:g} "
                        "µg/Nm³ from 01/01/2026, 50 before): it applies to 24-hour means, so short peaks above it are "
                        "not a breach by themselves.",
                        panels.thresholds(panels.GREEN, (pm25_limit, panels.RED)),
                    ),
                    mean_24h("pm25", pm25_limit, "QCVN 05:2023/BTNMT (from 01/01/2026)"),
                    quantity_graph(
                        MEASUREMENT,
                        "pm10",
                        f"PM10 per air station; dashed line: QCVN 05:2023 24-hour limit {limits.PM10_24H_LIMIT:g} "
                        "µg/Nm³ (applies to 24-hour means).",
                        panels.thresholds(panels.GREEN, (limits.PM10_24H_LIMIT, panels.RED)),
                    ),
                    mean_24h("pm10", limits.PM10_24H_LIMIT, "QCVN 05:2023/BTNMT"),
                    panels.bars(
                        "Chỉ số VN_AQI theo trạm (24 giờ)",
                        "Daily VN_AQI of each air station from its 24-hour mean PM2.5 and PM10 (QĐ 1459/QĐ-TCMT). "
                        f"Indicative (low-cost sensors). Colours: {AQI_LEGEND}.",
                        unit=units.INDEX,
                        steps=aqi_thresholds(),
                        decimals=0,
                        maximum=500,
                        targets=[
                            InfluxQL(
                                aggregate_per_group(
                                    MEASUREMENT, [aqi_select()], filters=(VILLAGE_FILTER, DEVICE_FILTER)
                                )
                            ).alias("$tag_device")
                        ],
                    )
                    .time_from("24h")
                    .span(24),
                ],
            ),
            (
                "Khí hậu",
                [
                    quantity_graph(
                        MEASUREMENT,
                        "co2",
                        "CO2 per air station. Yellow outside 380-1000 ppm, the catalogue's plausible outdoor range.",
                        panels.catalogue_thresholds("co2"),
                        title="Nồng độ CO2",
                    ),
                    quantity_graph(
                        MEASUREMENT,
                        "air_temp",
                        "Air temperature per station; yellow outside 10-45 °C (around Ho Chi Minh City's records).",
                        panels.catalogue_thresholds("air_temp"),
                    ),
                    quantity_graph(
                        MEASUREMENT,
                        "humidity",
                        "Relative humidity per station.",
                        panels.catalogue_thresholds("humidity"),
                    ),
                    quantity_graph(
                        MEASUREMENT,
                        "pressure",
                        "Air pressure per station; yellow outside 950-1050 hPa (a site near sea level).",
                        panels.catalogue_thresholds("pressure"),
                    ),
                ],
            ),
        ],
    )
