"""Panel factories: every panel gets a Vietnamese title, an English description, a unit and thresholds.

Callers pass those four explicitly (the factories have no defaults for them), so a panel without a unit or
thresholds cannot be written by accident; tests check the generated JSON again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TypeVar

from grafana_foundation_sdk.builders import bargauge, stat, statetimeline, table, timeseries
from grafana_foundation_sdk.builders import common as common_builders
from grafana_foundation_sdk.builders import dashboard as dashboard_builders
from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.cog import variants as cogvariants
from grafana_foundation_sdk.models import common
from grafana_foundation_sdk.models import dashboard as model

from dashboards.datasources import INFLUX
from devices.quantities import QUANTITIES

Target = cogbuilder.Builder[cogvariants.Dataquery]
P = TypeVar("P", timeseries.Panel, stat.Panel, bargauge.Panel, table.Panel, statetimeline.Panel)

GRAPH_POINTS = 300
"""maxDataPoints of time-series panels: fixed (not the panel's pixel width) so `$__interval` is the same on every
screen and `village dashboards check` computes exactly the interval Grafana will."""
STAT_POINTS = 100

GREEN, YELLOW, ORANGE, RED, BLUE, GREY = "green", "yellow", "orange", "red", "blue", "text"


def thresholds(base: str, *steps: tuple[float, str]) -> dashboard_builders.ThresholdsConfig:
    """Absolute thresholds: `base` below the first step, then each (value, colour) from that value upwards."""
    return (
        dashboard_builders.ThresholdsConfig()
        .mode(model.ThresholdsMode.ABSOLUTE)
        .steps([model.Threshold(value=None, color=base), *(model.Threshold(value=v, color=c) for v, c in steps)])
    )


def catalogue_thresholds(quantity: str) -> dashboard_builders.ThresholdsConfig:
    """Where no regulation applies: yellow beyond the catalogue's soft limits (stored but flagged as suspicious)."""
    q = QUANTITIES[quantity]
    low = q.soft_min if q.soft_min > q.hard_min else None
    high = q.soft_max if q.soft_max < q.hard_max else None
    if low is not None:
        return thresholds(YELLOW, (low, GREEN), *(((high, YELLOW),) if high is not None else ()))
    if high is not None:
        return thresholds(GREEN, (high, YELLOW))
    return thresholds(GREEN, (q.hard_max, RED))


def value_texts(texts: Mapping[float, tuple[str, str]], *, null_text: str | None = None) -> list[model.ValueMapping]:
    """Value mappings: exact values to (text, colour), and optionally what to show for no value."""
    mappings: list[model.ValueMapping] = [
        model.ValueMap(
            options={
                f"{value:g}": model.ValueMappingResult(text=text, color=color, index=i)
                for i, (value, (text, color)) in enumerate(texts.items())
            }
        )
    ]
    if null_text is not None:
        mappings.append(
            model.SpecialValueMap(
                options=model.DashboardSpecialValueMapOptions(
                    match=model.SpecialValueMatch.NULL,
                    result=model.ValueMappingResult(text=null_text, color=GREY, index=len(texts)),
                )
            )
        )
    return mappings


def _common(
    panel: P,
    title: str,
    description: str,
    *,
    unit: str,
    steps: dashboard_builders.ThresholdsConfig,
    targets: Sequence[Target],
) -> P:
    panel.title(title).description(description).unit(unit).thresholds(steps).datasource(INFLUX)
    for target in targets:
        panel.with_target(target)
    return panel


def graph(
    title: str,
    description: str,
    *,
    unit: str,
    steps: dashboard_builders.ThresholdsConfig,
    targets: Sequence[Target],
    show_thresholds: bool = True,
    bars: bool = False,
    stacked: bool = False,
    decimals: int | None = None,
) -> timeseries.Panel:
    """A time-series graph; thresholds are drawn as dashed lines when they are limits an officer compares to."""
    panel = _common(timeseries.Panel(), title, description, unit=unit, steps=steps, targets=targets)
    panel.max_data_points(GRAPH_POINTS).height(8).span(12).line_width(2).fill_opacity(10).span_nulls(False)
    panel.legend(
        common_builders.VizLegendOptions()
        .display_mode(common.LegendDisplayMode.LIST)
        .placement(common.LegendPlacement.BOTTOM)
        .show_legend(True)
    )
    panel.tooltip(
        common_builders.VizTooltipOptions().mode(common.TooltipDisplayMode.MULTI).sort(common.SortOrder.DESCENDING)
    )
    style = common.GraphThresholdsStyleMode.DASHED if show_thresholds else common.GraphThresholdsStyleMode.OFF
    panel.thresholds_style(common_builders.GraphThresholdsStyleConfig().mode(style))
    if bars:
        panel.draw_style(common.GraphDrawStyle.BARS).fill_opacity(80)
    if stacked:
        panel.stacking(common_builders.StackingConfig().mode(common.StackingMode.NORMAL))
    if decimals is not None:
        panel.decimals(decimals)
    return panel


def big_number(
    title: str,
    description: str,
    *,
    unit: str,
    steps: dashboard_builders.ThresholdsConfig,
    targets: Sequence[Target],
    decimals: int = 1,
    calculation: str = "lastNotNull",
) -> stat.Panel:
    """A stat: one coloured number per series, readable across a room."""
    panel = _common(stat.Panel(), title, description, unit=unit, steps=steps, targets=targets)
    panel.max_data_points(STAT_POINTS).height(6).span(6).decimals(decimals)
    panel.color_mode(common.BigValueColorMode.BACKGROUND).graph_mode(common.BigValueGraphMode.NONE)
    panel.text_mode(common.BigValueTextMode.VALUE_AND_NAME).justify_mode(common.BigValueJustifyMode.AUTO)
    panel.reduce_options(common_builders.ReduceDataOptions().calcs([calculation]).values(False))
    return panel


def bars(
    title: str,
    description: str,
    *,
    unit: str,
    steps: dashboard_builders.ThresholdsConfig,
    targets: Sequence[Target],
    decimals: int = 1,
    minimum: float | None = 0,
    maximum: float | None = None,
) -> bargauge.Panel:
    """A bar gauge: one bar per station or reason, coloured by thresholds, for comparing many at once."""
    panel = _common(bargauge.Panel(), title, description, unit=unit, steps=steps, targets=targets)
    panel.max_data_points(STAT_POINTS).height(8).span(12).decimals(decimals)
    panel.display_mode(common.BarGaugeDisplayMode.BASIC).orientation(common.VizOrientation.HORIZONTAL)
    panel.reduce_options(common_builders.ReduceDataOptions().calcs(["lastNotNull"]).values(False))
    if minimum is not None:
        panel.min(minimum)
    if maximum is not None:
        panel.max(maximum)
    return panel


def rows_table(
    title: str,
    description: str,
    *,
    unit: str,
    steps: dashboard_builders.ThresholdsConfig,
    targets: Sequence[Target],
) -> table.Panel:
    """A table, one row per station; columns get their own units through overrides."""
    panel = _common(table.Panel(), title, description, unit=unit, steps=steps, targets=targets)
    return panel.max_data_points(STAT_POINTS).height(9).span(12).cell_height(common.TableCellHeight.SM)


def states(
    title: str,
    description: str,
    *,
    unit: str,
    steps: dashboard_builders.ThresholdsConfig,
    mappings: list[model.ValueMapping],
    targets: Sequence[Target],
) -> statetimeline.Panel:
    """A state timeline: one lane per station, coloured by its mapped state."""
    panel = _common(statetimeline.Panel(), title, description, unit=unit, steps=steps, targets=targets)
    panel.max_data_points(GRAPH_POINTS).height(9).span(12).mappings(mappings)
    return panel.show_value(common.VisibilityMode.NEVER).merge_values(True).row_height(0.8).fill_opacity(80)


def column(unit: str, steps: dashboard_builders.ThresholdsConfig | None = None) -> list[model.DynamicConfigValue]:
    """Override properties giving one column of a table its own unit, and a coloured cell when `steps` is set."""
    properties = [model.DynamicConfigValue(id_val="unit", value=unit)]
    if steps is not None:
        properties.append(model.DynamicConfigValue(id_val="thresholds", value=steps.build()))
        properties.append(
            model.DynamicConfigValue(id_val="custom.cellOptions", value={"type": "color-background", "mode": "basic"})
        )
    return properties
