"""Nước (Water): pH and dissolved oxygen against QCVN, then the other water quantities."""

from __future__ import annotations

from grafana_foundation_sdk.models import dashboard as model

from dashboards import panels
from dashboards.boards.common import (
    BuildContext,
    add_rows,
    device_variable,
    new_dashboard,
    quantity_graph,
    village_variable,
)
from dashboards.boards.overview import do_thresholds, ph_thresholds, water_do, water_ph
from dashboards.influxql import DEVICE_FILTER, VILLAGE_FILTER

UID = "village-water"
MEASUREMENT = "water"


def build(ctx: BuildContext) -> model.Dashboard:
    """The water dashboard."""
    del ctx
    dashboard = (
        new_dashboard(
            UID, "Nước", "Water quality: pH and dissolved oxygen against QCVN, turbidity, conductivity, level."
        )
        .with_variable(village_variable())
        .with_variable(device_variable(MEASUREMENT))
    )
    return add_rows(
        dashboard,
        [
            (
                "So với QCVN",
                [
                    quantity_graph(
                        MEASUREMENT,
                        "ph",
                        "pH per water station. Dashed lines: 6.0 and 8.5 (QCVN 01-1:2018/BYT; QCVN 08:2023/BTNMT "
                        "levels B-C) and 6.5 (lower bound of QCVN 08:2023 level A).",
                        ph_thresholds(),
                    ),
                    quantity_graph(
                        MEASUREMENT,
                        "do",
                        "Dissolved oxygen per water station. Dashed lines: QCVN 08:2023/BTNMT level C (4.0 mg/L) "
                        "and level B (5.0 mg/L).",
                        do_thresholds(),
                    ),
                    water_ph((VILLAGE_FILTER, DEVICE_FILTER)),
                    water_do((VILLAGE_FILTER, DEVICE_FILTER)),
                ],
            ),
            (
                "Thông số khác",
                [
                    quantity_graph(
                        MEASUREMENT,
                        "turbidity",
                        "Turbidity per station (NTU). QCVN 08:2023 classifies by suspended solids, not NTU, so no "
                        "regulatory line is drawn; red marks the probe's range limit.",
                        panels.catalogue_thresholds("turbidity"),
                    ),
                    quantity_graph(
                        MEASUREMENT, "ec", "Electrical conductivity per station.", panels.catalogue_thresholds("ec")
                    ),
                    quantity_graph(
                        MEASUREMENT,
                        "water_level",
                        "Water level per station (distance-sensor reading, cm).",
                        panels.catalogue_thresholds("water_level"),
                    ),
                    quantity_graph(
                        MEASUREMENT,
                        "water_temp",
                        "Water temperature per station.",
                        panels.catalogue_thresholds("water_temp"),
                    ),
                ],
            ),
        ],
    )
