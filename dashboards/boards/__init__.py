"""The six dashboards, one module each; `ALL` lists their builders in menu order."""

from __future__ import annotations

from collections.abc import Callable

from grafana_foundation_sdk.models.dashboard import Dashboard

from dashboards.boards import agri, air, device_health, overview, pipeline, water
from dashboards.boards.common import BuildContext

ALL: tuple[Callable[[BuildContext], Dashboard], ...] = (
    overview.build,
    air.build,
    water.build,
    agri.build,
    device_health.build,
    pipeline.build,
)
