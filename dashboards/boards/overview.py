"""Tổng quan xã (Commune overview): the wall-screen page — where the stations are and whether anything is wrong."""

from __future__ import annotations

from collections.abc import Sequence

from grafana_foundation_sdk.builders import common as common_builders
from grafana_foundation_sdk.builders import dashboard as dashboard_builders
from grafana_foundation_sdk.builders import geomap, stat
from grafana_foundation_sdk.models import common
from grafana_foundation_sdk.models import dashboard as model
from grafana_foundation_sdk.models.geomap import MapCenterID, TooltipMode

from dashboards import limits, panels, units
from dashboards.aqi import daily_aqi_expression
from dashboards.boards.common import BuildContext, add_rows, new_dashboard, village_variable
from dashboards.influxql import VILLAGE_FILTER, InfluxQL, aggregate_over_time, aggregate_per_group, field_ref
from dashboards.stations import COLUMNS, stations_query
from devices.schema import STATUS, TAG_DEVICE, TAG_VILLAGE, quote_identifier
from devices.standards import VN_AQI_CATEGORIES

UID = "village-overview"
AQI_LEGEND = ", ".join(f"{b.label_en} ≥ {b.low}" for b in VN_AQI_CATEGORIES)
ONLINE = {1.0: ("Trực tuyến", panels.GREEN), 0.0: ("Mất kết nối", panels.RED)}
NO_DISC = model.SpecialValueMap(
    options=model.DashboardSpecialValueMapOptions(
        match=model.SpecialValueMatch.NULL, result=model.ValueMappingResult(text="–", color="transparent", index=0)
    )
)
"""Stations without VN_AQI (not air stations) get no disc on the map."""


def aqi_thresholds() -> dashboard_builders.ThresholdsConfig:
    """VN_AQI colours of QĐ 1459 Bảng 1; steps at n.5 because the index is shown rounded to an integer."""
    first, *rest = VN_AQI_CATEGORIES
    return panels.thresholds(first.hex, *((band.low - 0.5, band.hex) for band in rest))


def aqi_select(alias: str = "VN_AQI") -> str:
    """The daily VN_AQI of the rows selected, from their mean PM2.5 and PM10."""
    expression = daily_aqi_expression(f"mean({field_ref('air', 'pm25')})", f"mean({field_ref('air', 'pm10')})")
    return f"{expression} AS {quote_identifier(alias)}"


def ph_thresholds() -> dashboard_builders.ThresholdsConfig:
    """Red outside QCVN 6.0-8.5, yellow in 6.0-6.5 (below level A of QCVN 08:2023), green in 6.5-8.5."""
    low, high = limits.PH_ALLOWED
    return panels.thresholds(panels.RED, (low, panels.YELLOW), (limits.PH_GOOD[0], panels.GREEN), (high, panels.RED))


def do_thresholds() -> dashboard_builders.ThresholdsConfig:
    """QCVN 08:2023: red below level C (4.0 mg/L), yellow below level B (5.0 mg/L)."""
    return panels.thresholds(panels.RED, (limits.DO_LEVEL_C, panels.YELLOW), (limits.DO_LEVEL_B, panels.GREEN))


def soil_thresholds() -> dashboard_builders.ThresholdsConfig:
    """Loam guide [S35]: red below the wilting point, blue above field capacity (waterlogged)."""
    return panels.thresholds(
        panels.RED, (limits.SOIL_WILTING_POINT_PCT, panels.GREEN), (limits.SOIL_FIELD_CAPACITY_PCT, panels.BLUE)
    )


def rain_thresholds() -> dashboard_builders.ThresholdsConfig:
    """Rain in 24 h as Vietnamese forecasts word it (mưa vừa 16-50 mm, mưa to 51-100, mưa rất to > 100).

    Indicative: these classes are common usage, not taken from a source the project has checked.
    """
    return panels.thresholds(panels.GREEN, (16, panels.YELLOW), (51, panels.ORANGE), (100.1, panels.RED))


def station_map(ctx: BuildContext) -> geomap.Panel:
    """Every registered station on the map: a status dot, on a VN_AQI disc for air stations."""
    status = aggregate_per_group(
        STATUS, [f'last({field_ref(STATUS, "online")}) AS "online"'], filters=(VILLAGE_FILTER,), by=(TAG_DEVICE,)
    )
    aqi = (
        f'SELECT {aqi_select("aqi")} FROM "air" WHERE {VILLAGE_FILTER} AND time > now() - 24h '
        f"GROUP BY {quote_identifier(TAG_DEVICE)}"
    )
    panel = (
        geomap.Panel()
        .title("Bản đồ trạm quan trắc")
        .description(
            "Station map. Every station of the registry (coordinates from the registry, not InfluxDB). Dot: the "
            "board's last reported MQTT status over 30 days (green online, red offline, grey never reported). Disc "
            f"under air stations: VN_AQI of the last 24 hours (QĐ 1459/QĐ-TCMT colours: {AQI_LEGEND}). "
            "Indicative: low-cost sensors, not a certified monitoring station."
        )
        .datasource(panels_datasource())
        .with_target(stations_query(ctx.registry))
        .with_target(InfluxQL(status).ref_id("STATUS").table())
        .with_target(InfluxQL(aqi).ref_id("AQI").table())
        .time_from("30d")
        .hide_time_override(False)
        .max_data_points(panels.STAT_POINTS)
        .height(14)
        .span(14)
        .unit(units.INDEX)
        .thresholds(aqi_thresholds())
        .color_scheme(dashboard_builders.FieldColor().mode(model.FieldColorModeId.THRESHOLDS))
        .override_by_name(
            "online",
            [
                model.DynamicConfigValue(
                    id_val="mappings", value=panels.value_texts(ONLINE, null_text="Chưa có dữ liệu")
                ),
                model.DynamicConfigValue(
                    id_val="thresholds", value=panels.thresholds(panels.RED, (1, panels.GREEN)).build()
                ),
            ],
        )
        .override_by_name(
            "aqi",
            [
                model.DynamicConfigValue(id_val="decimals", value=0),
                model.DynamicConfigValue(id_val="displayName", value="VN_AQI"),
                model.DynamicConfigValue(id_val="mappings", value=[NO_DISC]),
            ],
        )
        .view(geomap.MapViewConfig().id(MapCenterID.FIT).all_layers(True).padding(20).zoom(11).max_zoom(16))
        .controls(geomap.ControlsOptions().show_zoom(True).mouse_wheel_zoom(False).show_scale(True))
        .basemap(common_builders.MapLayerOptions().type("default").name("Bản đồ nền"))
        .layers(
            [
                _layer("VN_AQI", "aqi", size=16, opacity=0.55, fixed="transparent"),
                _layer("Trạng thái", "online", size=7, opacity=1, fixed=panels.GREY),
            ]
        )
        .tooltip(geomap.TooltipOptions().mode(TooltipMode.DETAILS))
    )
    panel.with_transformation(
        model.DataTransformerConfig(id_val="joinByField", options={"byField": TAG_DEVICE, "mode": "outer"})
    )
    panel.with_transformation(
        model.DataTransformerConfig(
            id_val="filterFieldsByName", options={"include": {"names": [*COLUMNS, "online", "aqi"]}}
        )
    )
    return panel


def panels_datasource() -> model.DataSourceRef:
    """Mixed: the map combines the registry (TestData) with InfluxDB."""
    return model.DataSourceRef(type_val="datasource", uid="-- Mixed --")


def _layer(name: str, color_field: str, *, size: int, opacity: float, fixed: str) -> common_builders.MapLayerOptions:
    """A markers layer coloured by `color_field` (`fixed` when the field is absent), placed by lat/lon."""
    style = {
        "color": {"field": color_field, "fixed": fixed},
        "opacity": opacity,
        "size": {"fixed": size, "min": size, "max": size},
        "symbol": {"fixed": "img/icons/marker/circle.svg", "mode": "fixed"},
        "symbolAlign": {"horizontal": "center", "vertical": "center"},
        "rotation": {"fixed": 0, "min": -360, "max": 360, "mode": "mod"},
    }
    return (
        common_builders.MapLayerOptions()
        .type("markers")
        .name(name)
        .config({"showLegend": True, "style": style})
        .location(
            common_builders.FrameGeometrySource()
            .mode(common.FrameGeometrySourceMode.COORDS)
            .latitude("lat")
            .longitude("lon")
        )
        .tooltip(True)
    )


def build(ctx: BuildContext) -> model.Dashboard:
    """The overview dashboard."""
    rain = f'sum({field_ref("agri", "rain")}) AS "rain"'
    dashboard = new_dashboard(
        UID,
        "Tổng quan xã",
        "Commune overview for the wall screen: station map, air-quality index, water against QCVN, rain and soil.",
    ).with_variable(village_variable())
    return add_rows(
        dashboard,
        [
            (
                "Bản đồ và chất lượng không khí",
                [
                    station_map(ctx),
                    panels.big_number(
                        "Chỉ số VN_AQI 24 giờ (tham khảo)",
                        "VN_AQI of each village over the last 24 hours: the larger of the PM2.5 and PM10 sub-indices "
                        "of the 24-hour means (QĐ 1459/QĐ-TCMT, daily formula), computed in InfluxDB. Indicative only: "
                        f"low-cost sensors. Colours: {AQI_LEGEND}.",
                        unit=units.INDEX,
                        steps=aqi_thresholds(),
                        decimals=0,
                        targets=[
                            InfluxQL(aggregate_per_group("air", [aqi_select()], by=(TAG_VILLAGE,))).alias(
                                "$tag_village"
                            )
                        ],
                    )
                    .time_from("24h")
                    .span(10)
                    .height(7),
                    reporting_now(),
                    offline_now(),
                ],
            ),
            ("Chất lượng nước", [water_ph(), water_do()]),
            (
                "Mưa và độ ẩm đất",
                [
                    panels.big_number(
                        "Lượng mưa 24 giờ",
                        "Rain over the last 24 hours in each village (sum of the gauges' readings). Colours follow "
                        "the usual forecast wording (moderate from 16 mm, heavy from 51, very heavy above 100 mm); "
                        "indicative, not a regulation.",
                        unit=units.GRAFANA_UNIT["rain"],
                        steps=rain_thresholds(),
                        targets=[
                            InfluxQL(aggregate_per_group("agri", [rain], by=(TAG_VILLAGE,))).alias("$tag_village")
                        ],
                    ).time_from("24h"),
                    panels.graph(
                        "Lượng mưa theo giờ",
                        "Hourly rain per village, mm per hour.",
                        unit=units.GRAFANA_UNIT["rain"],
                        steps=panels.thresholds(panels.GREEN, (16, panels.YELLOW), (51, panels.RED)),
                        show_thresholds=False,
                        bars=True,
                        targets=[
                            InfluxQL(
                                aggregate_over_time(
                                    "agri",
                                    ["rain"],
                                    aggregate="sum",
                                    filters=(VILLAGE_FILTER,),
                                    by=(TAG_VILLAGE,),
                                    every="1h",
                                    fill="0",
                                )
                            ).alias("$tag_village")
                        ],
                    ).span(9),
                    panels.graph(
                        "Độ ẩm đất",
                        "Mean soil moisture per village (% volumetric water content). Lines: wilting point 13.8 % "
                        "and field capacity 32.1 % of a loam (Saxton & Rawls 2006) — a guide, soils differ.",
                        unit=units.GRAFANA_UNIT["soil_moisture"],
                        steps=soil_thresholds(),
                        targets=[
                            InfluxQL(
                                aggregate_over_time(
                                    "agri", ["soil_moisture"], filters=(VILLAGE_FILTER,), by=(TAG_VILLAGE,)
                                )
                            ).alias("$tag_village")
                        ],
                    ).span(9),
                ],
            ),
        ],
    )


def reporting_now() -> stat.Panel:
    """How many boards sent a reading in the last 30 minutes."""
    inner = aggregate_per_group("device", [f'last({field_ref("device", "rssi")}) AS "rssi"'], by=(TAG_DEVICE,))
    return (
        panels.big_number(
            "Trạm gửi dữ liệu (30 phút)",
            "Boards that sent at least one message in the last 30 minutes (any reading carries battery and RSSI).",
            unit=units.COUNT,
            steps=panels.thresholds(panels.RED, (1, panels.GREEN)),
            decimals=0,
            targets=[InfluxQL(f'SELECT count("rssi") AS "boards" FROM ({inner})')],
        )
        .time_from("30m")
        .span(5)
        .height(7)
    )


def offline_now() -> stat.Panel:
    """How many boards last said 'offline' (their MQTT last will)."""
    inner = aggregate_per_group(STATUS, [f'last({field_ref(STATUS, "online")}) AS "online"'], by=(TAG_DEVICE,))
    return (
        panels.big_number(
            "Trạm mất kết nối",
            "Boards whose last MQTT status (over 30 days) is offline: their broker connection dropped and "
            "the last will was published. 0 is green.",
            unit=units.COUNT,
            steps=panels.thresholds(panels.GREEN, (1, panels.RED)),
            decimals=0,
            targets=[InfluxQL(f'SELECT count("online") - sum("online") AS "offline" FROM ({inner})')],
        )
        .time_from("30d")
        .span(5)
        .height(7)
    )


def water_ph(filters: Sequence[str] = (VILLAGE_FILTER,)) -> stat.Panel:
    """Mean pH of the last hour per water station, coloured by QCVN."""
    select = f'mean({field_ref("water", "ph")}) AS "ph"'
    return (
        panels.big_number(
            "pH nước so với QCVN",
            "Mean pH of the last hour at each water station. Red outside 6.0-8.5 (QCVN 01-1:2018/BYT domestic water; "
            "QCVN 08:2023/BTNMT surface water levels B-C), yellow 6.0-6.5 (below level A), green 6.5-8.5.",
            unit=units.GRAFANA_UNIT["ph"],
            steps=ph_thresholds(),
            decimals=2,
            targets=[InfluxQL(aggregate_per_group("water", [select], filters=filters)).alias("$tag_device")],
        )
        .time_from("1h")
        .span(12)
    )


def water_do(filters: Sequence[str] = (VILLAGE_FILTER,)) -> stat.Panel:
    """Mean dissolved oxygen of the last hour per water station, coloured by QCVN 08:2023."""
    select = f'mean({field_ref("water", "do")}) AS "do"'
    return (
        panels.big_number(
            "Oxy hòa tan so với QCVN 08:2023",
            "Mean dissolved oxygen of the last hour at each water station. QCVN 08:2023/BTNMT: green ≥ 5.0 mg/L "
            "(level B), yellow 4.0-5.0 (level C), red below 4.0.",
            unit=units.GRAFANA_UNIT["do"],
            steps=do_thresholds(),
            decimals=1,
            targets=[InfluxQL(aggregate_per_group("water", [select], filters=filters)).alias("$tag_device")],
        )
        .time_from("1h")
        .span(12)
    )
