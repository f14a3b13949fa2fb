"""Đường ống dữ liệu (Pipeline): is the ingestor keeping up, refusing data, or spooling to disk?

Reads the ingestor's self-metrics, written once per summary period (60 s by default): `pipeline` holds what
happened in the period (messages received, readings stored and rejected) and gauges (spool bytes, mean lag and
write time, connected), `rejects` the readings refused per reason in the period. Rates are therefore sums per
Grafana interval divided by its length (`$__interval_ms`), which stays right whatever the period is.
"""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard as dashboard_builders
from grafana_foundation_sdk.models import dashboard as model

from dashboards import panels, units
from dashboards.boards.common import BuildContext, add_rows, new_dashboard
from dashboards.datasources import INFLUX
from dashboards.influxql import InfluxQL, aggregate_over_time, aggregate_per_group, where
from dashboards.influxql import field_ref as f
from devices.schema import PIPELINE, REJECTS, TAG_INSTANCE, TAG_REASON, quote_identifier

UID = "village-pipeline"
INSTANCE_FILTER = f"{quote_identifier(TAG_INSTANCE)} =~ /^$instance$/"
CONNECTED = {1.0: ("Đã kết nối", panels.GREEN), 0.0: ("Mất kết nối", panels.RED)}


def instance_variable() -> dashboard_builders.QueryVariable:
    """`$instance`: the ingestor instances that wrote self-metrics (one per client id)."""
    query = f"SHOW TAG VALUES FROM {quote_identifier(PIPELINE)} WITH KEY = {quote_identifier(TAG_INSTANCE)}"
    return (
        dashboard_builders.QueryVariable(TAG_INSTANCE)
        .label("Bộ tiếp nhận")
        .query(query)
        .datasource(INFLUX)
        .multi(True)
        .include_all(True)
        .current(model.VariableOption(selected=True, text=["All"], value=["$__all"]))
        .refresh(model.VariableRefresh.ON_DASHBOARD_LOAD)
    )


def rates() -> str:
    """Messages received and readings stored and rejected per second, per ingestor."""
    selects = ", ".join(
        f"sum({f(PIPELINE, name)}) * 1000 / $__interval_ms AS {quote_identifier(name)}"
        for name in ("received", "stored", "rejected")
    )
    return (
        f"SELECT {selects} FROM {quote_identifier(PIPELINE)} {where(INSTANCE_FILTER)} "
        f"GROUP BY time($__interval), {quote_identifier(TAG_INSTANCE)} fill(none)"
    )


def gauge(field: str, aggregate: str = "max") -> str:
    """A sampled gauge of the ingestor per interval and instance."""
    return aggregate_over_time(PIPELINE, [field], aggregate=aggregate, filters=(INSTANCE_FILTER,), by=(TAG_INSTANCE,))


def build(ctx: BuildContext) -> model.Dashboard:
    """The pipeline dashboard."""
    del ctx
    dashboard = new_dashboard(
        UID,
        "Đường ống dữ liệu",
        "Ingestor self-metrics: intake rate, rejected readings by reason, disk spool, lag and write latency.",
        time_from="now-6h",
    ).with_variable(instance_variable())
    rejected = aggregate_over_time(REJECTS, ["count"], aggregate="sum", filters=(INSTANCE_FILTER,), by=(TAG_REASON,))
    rejected_total = aggregate_per_group(
        REJECTS, [f'sum({f(REJECTS, "count")}) AS "count"'], filters=(INSTANCE_FILTER,), by=(TAG_REASON,)
    )
    connected = aggregate_per_group(
        PIPELINE, [f'last({f(PIPELINE, "connected")}) AS "connected"'], filters=(INSTANCE_FILTER,), by=(TAG_INSTANCE,)
    )
    return add_rows(
        dashboard,
        [
            (
                "Lưu lượng",
                [
                    panels.graph(
                        "Tốc độ tiếp nhận",
                        "Per ingestor: MQTT messages received and readings stored and rejected, per second.",
                        unit=units.PER_SECOND,
                        steps=panels.thresholds(panels.GREEN),
                        show_thresholds=False,
                        targets=[InfluxQL(rates()).alias("$col ($tag_instance)")],
                    ),
                    panels.graph(
                        "Bản ghi bị từ chối theo lý do",
                        "Readings refused per interval, stacked by reason (codes of the wire contract, e.g. "
                        "hard_limit, unknown_quantity, malformed_json). Every refused reading is kept with its reason.",
                        unit=units.COUNT,
                        steps=panels.thresholds(panels.GREEN, (1, panels.ORANGE)),
                        show_thresholds=False,
                        bars=True,
                        stacked=True,
                        decimals=0,
                        targets=[InfluxQL(rejected).alias("$tag_reason")],
                    ),
                    panels.bars(
                        "Tổng bản ghi bị từ chối",
                        "Readings refused over the whole range, by reason.",
                        unit=units.COUNT,
                        steps=panels.thresholds(panels.GREEN, (1, panels.ORANGE)),
                        decimals=0,
                        targets=[InfluxQL(rejected_total).alias("$tag_reason")],
                    ),
                    panels.big_number(
                        "Kết nối MQTT",
                        "Whether each ingestor is connected to the broker now (last sample).",
                        unit=units.INDEX,
                        steps=panels.thresholds(panels.RED, (1, panels.GREEN)),
                        decimals=0,
                        targets=[InfluxQL(connected).alias("$tag_instance")],
                    )
                    .mappings(panels.value_texts(CONNECTED))
                    .span(12)
                    .height(8),
                ],
            ),
            (
                "Hàng đợi và độ trễ",
                [
                    panels.graph(
                        "Hàng đợi đĩa (spool)",
                        "Bytes waiting in the disk spool while InfluxDB is unreachable; it must return to 0 when "
                        "InfluxDB is back (an alert fires after 10 minutes).",
                        unit=units.BYTES,
                        steps=panels.thresholds(panels.GREEN, (1, panels.ORANGE)),
                        targets=[InfluxQL(gauge("spool_bytes")).alias("$tag_instance")],
                    ),
                    panels.graph(
                        "Độ trễ tiếp nhận",
                        "Mean delay from a reading's device time to its storage, worst period per interval. Boards "
                        "uploading buffered (store-and-forward) data raise it on purpose; a steady climb while "
                        "boards are live means a backlog. Yellow from 5 s, red from 60 s.",
                        unit=units.MILLISECONDS,
                        steps=panels.thresholds(panels.GREEN, (5000, panels.YELLOW), (60000, panels.RED)),
                        targets=[InfluxQL(gauge("lag_ms")).alias("$tag_instance")],
                    ),
                    panels.graph(
                        "Thời gian ghi InfluxDB",
                        "Mean duration of one batch write to InfluxDB. Yellow from 1 s, red at the ingestor's 10 s "
                        "write timeout.",
                        unit=units.MILLISECONDS,
                        steps=panels.thresholds(panels.GREEN, (1000, panels.YELLOW), (10000, panels.RED)),
                        targets=[InfluxQL(gauge("write_ms", "mean")).alias("$tag_instance")],
                    ),
                ],
            ),
        ],
    )
