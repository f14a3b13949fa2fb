"""Tình trạng thiết bị (Device health): which boards are silent, flat, out of range or losing messages."""

from __future__ import annotations

from grafana_foundation_sdk.builders import bargauge, statetimeline, table
from grafana_foundation_sdk.builders.dashboard import ThresholdsConfig
from grafana_foundation_sdk.models import dashboard as model

from dashboards import limits, panels, units
from dashboards.boards.common import BuildContext, add_rows, new_dashboard, village_variable
from dashboards.boards.overview import ONLINE
from dashboards.influxql import VILLAGE_FILTER, InfluxQL, aggregate_over_time, aggregate_per_group
from dashboards.influxql import field_ref as f
from devices.quantities import QUANTITIES
from devices.reasons import QualityFlag
from devices.schema import LINK, QUALITY, STATUS, TAG_DEVICE, TAG_VILLAGE, quote_identifier

UID = "village-devices"
ALL_BOARDS = (VILLAGE_FILTER,)


def battery_thresholds() -> ThresholdsConfig:
    """Red below the alert level (3.4 V), yellow below a Li-ion cell's nominal 3.6 V [S14]."""
    return panels.thresholds(panels.RED, (limits.BATTERY_LOW_V, panels.YELLOW), (3.6, panels.GREEN))


def rssi_thresholds() -> ThresholdsConfig:
    """Red below the catalogue's soft limit (−80 dBm, 'may not be usable' [S15])."""
    return panels.thresholds(panels.RED, (QUANTITIES["rssi"].soft_min, panels.GREEN))


def last_seen() -> table.Panel:
    """One row per board: when it last sent, with its battery and signal from that same message."""
    select = [f'last({f("device", "rssi")}) AS "rssi"', f("device", "bat")]
    query = aggregate_per_group("device", select, filters=ALL_BOARDS, by=(TAG_VILLAGE, TAG_DEVICE))
    return (
        panels.rows_table(
            "Lần cuối nhận dữ liệu",
            "Last message of each board in the time range: when (relative to now), and the battery voltage and "
            "Wi-Fi RSSI it reported. Battery red below 3.4 V; RSSI red below −80 dBm.",
            unit=units.INDEX,
            steps=panels.thresholds(panels.GREEN),
            targets=[InfluxQL(query).table()],
        )
        .override_by_name(
            "Time", [*panels.column("dateTimeFromNow"), model.DynamicConfigValue("displayName", "Lần cuối")]
        )
        .override_by_name(
            "bat", [*panels.column("volt", battery_thresholds()), model.DynamicConfigValue("displayName", "Pin")]
        )
        .override_by_name(
            "rssi", [*panels.column("dBm", rssi_thresholds()), model.DynamicConfigValue("displayName", "RSSI")]
        )
        .span(24)
    )


def connection_states() -> statetimeline.Panel:
    """Online/offline lanes from the retained MQTT status."""
    query = aggregate_over_time(
        STATUS, ["online"], aggregate="last", filters=ALL_BOARDS, by=(TAG_DEVICE,), fill="previous"
    )
    return panels.states(
        "Trạng thái kết nối",
        "Online/offline per board from its retained MQTT status (the last will says offline when the connection "
        "drops). Grey: no status in the range yet.",
        unit=units.INDEX,
        steps=panels.thresholds(panels.RED, (1, panels.GREEN)),
        mappings=panels.value_texts(ONLINE, null_text="Chưa có dữ liệu"),
        targets=[InfluxQL(query).alias("$tag_device")],
    ).span(24)


def link_events() -> bargauge.Panel:
    """Messages lost, duplicated and reboots per board over the range, from the boards' sequence numbers."""
    selects = [f"sum({f(LINK, name)}) AS {quote_identifier(name)}" for name in ("lost", "duplicated", "reboot")]
    return panels.bars(
        "Mất tin, trùng tin, khởi động lại",
        "Per board over the range: messages lost (gaps in the `seq` counter), duplicated, and reboots (the counter "
        "restarted), as the ingestor counted them. Boards with none of these are not listed.",
        unit=units.COUNT,
        steps=panels.thresholds(panels.GREEN, (1, panels.YELLOW), (10, panels.RED)),
        decimals=0,
        targets=[InfluxQL(aggregate_per_group(LINK, selects, filters=ALL_BOARDS)).alias("$tag_device $col")],
    )


def quality_flags() -> bargauge.Panel:
    """How many readings were stored with each quality flag."""
    selects = [f"count({f(QUALITY, flag.field)}) AS {quote_identifier(flag.field)}" for flag in QualityFlag]
    return panels.bars(
        "Cờ chất lượng dữ liệu",
        "Readings stored but flagged in the range, by flag: soft_limit (plausible but suspicious value), spike, "
        "stuck (flat sensor), clock (no credible device time), cross_check (e.g. PM2.5 > PM10), unregistered board.",
        unit=units.COUNT,
        steps=panels.thresholds(panels.GREEN, (1, panels.YELLOW)),
        decimals=0,
        targets=[InfluxQL(aggregate_per_group(QUALITY, selects, filters=ALL_BOARDS, by=()))],
    )


def build(ctx: BuildContext) -> model.Dashboard:
    """The device-health dashboard."""
    del ctx
    dashboard = new_dashboard(
        UID, "Tình trạng thiết bị", "Device health: last seen, connection, battery, Wi-Fi, lost messages, data quality."
    ).with_variable(village_variable())
    lost = aggregate_over_time(LINK, ["lost"], aggregate="sum", filters=ALL_BOARDS, fill="0")
    return add_rows(
        dashboard,
        [
            ("Kết nối", [last_seen(), connection_states()]),
            (
                "Nguồn và tín hiệu",
                [
                    panels.graph(
                        "Điện áp pin",
                        "Battery voltage per board. Dashed lines: 3.4 V (alert: replace or charge soon) and 3.6 V "
                        "(nominal Li-ion voltage).",
                        unit=units.GRAFANA_UNIT["bat"],
                        steps=battery_thresholds(),
                        decimals=2,
                        targets=[
                            InfluxQL(aggregate_over_time("device", ["bat"], filters=ALL_BOARDS)).alias("$tag_device")
                        ],
                    ),
                    panels.graph(
                        "Cường độ sóng Wi-Fi (RSSI)",
                        "Wi-Fi signal per board; below the dashed line (−80 dBm) the link may not be usable.",
                        unit=units.GRAFANA_UNIT["rssi"],
                        steps=rssi_thresholds(),
                        targets=[
                            InfluxQL(aggregate_over_time("device", ["rssi"], filters=ALL_BOARDS)).alias("$tag_device")
                        ],
                    ),
                ],
            ),
            (
                "Tin nhắn và chất lượng",
                [
                    panels.graph(
                        "Tin nhắn bị mất (theo seq)",
                        "Messages lost per board and interval: gaps in the boards' `seq` counters.",
                        unit=units.COUNT,
                        steps=panels.thresholds(panels.GREEN, (1, panels.RED)),
                        show_thresholds=False,
                        bars=True,
                        decimals=0,
                        targets=[InfluxQL(lost).alias("$tag_device")],
                    ),
                    link_events(),
                    quality_flags(),
                ],
            ),
        ],
    )
