"""The five Grafana-managed alert rules: an InfluxQL query, a reduce and a threshold each.

Rules are built with the SDK's alerting models (the HTTP provisioning API format, which `push` sends); the file
provisioning format is a projection of the same objects (`file_rule`). Queries group by village and device (or
ingestor instance), so every board raises its own alert instance with its labels.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from grafana_foundation_sdk.builders import alerting, expr
from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.cog import variants as cogvariants
from grafana_foundation_sdk.models import alerting as alerting_model
from grafana_foundation_sdk.models.dashboard import Dashboard, DataSourceRef

from dashboards import limits
from dashboards.boards import device_health, overview, pipeline
from dashboards.boards.common import FOLDER, BuildContext
from dashboards.datasources import EXPRESSION_UID, INFLUX_UID
from dashboards.influxql import InfluxQLQuery
from dashboards.influxql import field_ref as f
from devices.schema import PIPELINE, STATUS, TAG_DEVICE, TAG_INSTANCE, TAG_VILLAGE, quote_identifier

GROUP = "Cảnh báo làng"
GROUP_INTERVAL_S = 60
FOLDER_UID = "smart-village"
ORG_ID = 1
ALERT_INTERVAL_MS = 60_000
ALERT_MAX_DATA_POINTS = 43_200
"""Written into each query model so `$__interval` is explicit (Grafana's own defaults are 1 s and 43,200)."""
BY_BOARD = (TAG_VILLAGE, TAG_DEVICE)
Evaluator = Literal["gt", "lt", "outside_range"]


@dataclass(frozen=True, slots=True)
class AlertSpec:
    """What one rule watches, over which window, and when it fires."""

    uid: str
    title: str
    summary_vi: str
    description_en: str
    measurement: str
    field: str
    aggregate: str
    window_s: int
    evaluator: Evaluator
    params: tuple[float, ...]
    pending: str
    severity: str
    dashboard_uid: str
    panel_title: str
    by: Sequence[str] = BY_BOARD

    def query(self) -> str:
        """The InfluxQL of the rule's query A: one value per board (or instance) over the window."""
        groups = ", ".join(quote_identifier(tag) for tag in self.by)
        column = f(self.measurement, self.field)
        return (
            f"SELECT {self.aggregate}({column}) AS {column} FROM {quote_identifier(self.measurement)} "
            f"WHERE $timeFilter GROUP BY {groups}"
        )


def specs(ctx: BuildContext) -> tuple[AlertSpec, ...]:
    """The rules of issue 7, with the limits in force on `ctx.today`."""
    pm25 = limits.pm25_24h_limit(ctx.today)
    low, high = limits.PH_ALLOWED
    who = "{{ $labels.device }} ({{ $labels.village }})"
    value = '{{ printf "%.2f" $values.B.Value }}'
    return (
        AlertSpec(
            "village-pm25-24h",
            "PM2.5 trung bình 24 giờ vượt QCVN 05:2023",
            f"Bụi PM2.5 trung bình 24 giờ tại {who} là {value} µg/m³, vượt giới hạn {pm25:g} µg/Nm³ của QCVN 05:2023.",
            f"24-hour mean PM2.5 above the QCVN 05:2023/BTNMT limit ({pm25:g} µg/Nm³ from 01/01/2026, 50 before).",
            "air", "pm25", "mean", 24 * 3600, "gt", (pm25,), "15m", "warning",
            overview.UID, "Chỉ số VN_AQI 24 giờ (tham khảo)",
        ),
        AlertSpec(
            "village-water-ph",
            "pH nước ngoài khoảng QCVN",
            f"pH trung bình 1 giờ tại {who} là {value}, ngoài khoảng {low:g}–{high:g} của QCVN.",
            f"Mean pH of the last hour outside {low:g}-{high:g} (QCVN 01-1:2018/BYT; QCVN 08:2023/BTNMT levels B-C).",
            "water", "ph", "mean", 3600, "outside_range", (low, high), "15m", "warning",
            overview.UID, "pH nước so với QCVN",
        ),
        AlertSpec(
            "village-device-offline",
            "Thiết bị mất kết nối 30 phút",
            f"Thiết bị {who} báo mất kết nối (MQTT) từ 30 phút trở lên.",
            "The board's last MQTT status is offline (its last will was published) and has stayed so for 30 minutes.",
            STATUS, "online", "last", 30 * 24 * 3600, "lt", (1.0,), "30m", "critical",
            device_health.UID, "Trạng thái kết nối",
        ),
        AlertSpec(
            "village-battery-low",
            "Pin yếu dưới 3,4 V",
            f"Pin của {who} còn {value} V (dưới {limits.BATTERY_LOW_V:g} V): cần sạc hoặc thay pin.",
            f"Battery below {limits.BATTERY_LOW_V:g} V for 30 minutes: a Li-ion cell near empty (nominal 3.6 V).",
            "device", "bat", "last", 3600, "lt", (limits.BATTERY_LOW_V,), "30m", "warning",
            device_health.UID, "Điện áp pin",
        ),
        AlertSpec(
            "village-spool-not-empty",
            "Hàng đợi đĩa chưa trống 10 phút",
            "Bộ tiếp nhận {{ $labels.instance }} đang giữ "
            '{{ printf "%.0f" $values.B.Value }} byte trong hàng đợi đĩa từ 10 phút: InfluxDB không nhận dữ liệu.',
            "The ingestor's disk spool has not been empty for 10 minutes: InfluxDB is unreachable or refusing writes; "
            "readings are safe on disk but not visible until it drains.",
            PIPELINE, "spool_bytes", "last", 15 * 60, "gt", (0.0,), "10m", "critical",
            pipeline.UID, "Hàng đợi đĩa (spool)", (TAG_INSTANCE,),
        ),
    )  # fmt: skip


def panel_id(dashboards: Sequence[Dashboard], uid: str, title: str) -> int:
    """The id of the panel an alert belongs to, so Grafana shows the rule's state on it.

    Raises:
        LookupError: no such panel (a renamed panel must be renamed here too).
    """
    for dashboard in dashboards:
        if dashboard.uid == uid:
            for panel in dashboard.panels or ():
                found = getattr(panel, "id_val", None)
                if getattr(panel, "title", None) == title and isinstance(found, int):
                    return found
    raise LookupError(f"no panel {title!r} on dashboard {uid!r}")


EXPRESSIONS = DataSourceRef(type_val="__expr__", uid=EXPRESSION_UID)


class _Model(cogbuilder.Builder[cogvariants.Dataquery]):
    """Hands an already-built query model to the SDK's alert `Query` builder."""

    def __init__(self, model: cogvariants.Dataquery) -> None:
        self._model = model

    def build(self) -> cogvariants.Dataquery:
        return self._model


def rule(spec: AlertSpec, dashboards: Sequence[Dashboard]) -> alerting.Rule:
    """The SDK rule for one spec: A (InfluxQL) → B (reduce to one number, nulls dropped) → C (threshold)."""
    query_a = InfluxQLQuery(
        spec.query(), ref_id="A", interval_ms=ALERT_INTERVAL_MS, max_data_points=ALERT_MAX_DATA_POINTS
    )
    reduce_b = (
        expr.TypeReduce()
        .ref_id("B")
        .datasource(EXPRESSIONS)
        .expression("A")
        .reducer("last")
        .settings(expr.ExprTypeReduceSettings().mode("dropNN"))
    )
    threshold_c = (
        expr.TypeThreshold()
        .ref_id("C")
        .datasource(EXPRESSIONS)
        .expression("B")
        .conditions(
            [
                expr.ExprTypeThresholdConditions().evaluator(
                    expr.ExprTypeThresholdConditionsEvaluator().type(spec.evaluator).params(list(spec.params))
                )
            ]
        )
    )
    window = alerting_model.RelativeTimeRange(from_val=spec.window_s, to=0)
    return (
        alerting.Rule(spec.title)
        .uid(spec.uid)
        .org_id(ORG_ID)
        .folder_uid(FOLDER_UID)
        .rule_group(GROUP)
        .condition("C")
        .with_query(alerting.Query("A").datasource_uid(INFLUX_UID).model(_Model(query_a)).relative_time_range(window))
        .with_query(alerting.Query("B").datasource_uid(EXPRESSION_UID).model(reduce_b).relative_time_range(window))
        .with_query(alerting.Query("C").datasource_uid(EXPRESSION_UID).model(threshold_c).relative_time_range(window))
        .for_val(spec.pending)
        .no_data_state("NoData")
        .exec_err_state("Error")
        .is_paused(False)
        .labels({"severity": spec.severity, "domain": spec.measurement})
        .annotations(
            {
                "summary": spec.summary_vi,
                "description": spec.description_en,
                "__dashboardUid__": spec.dashboard_uid,
                "__panelId__": str(panel_id(dashboards, spec.dashboard_uid, spec.panel_title)),
            }
        )
    )


def rules(ctx: BuildContext, dashboards: Sequence[Dashboard]) -> list[alerting_model.Rule]:
    """Every rule, built."""
    return [rule(spec, dashboards).build() for spec in specs(ctx)]


_LINK_ANNOTATIONS = {"__dashboardUid__": "dashboardUid", "__panelId__": "panelId"}


def file_rule(api_rule: dict[str, Any]) -> dict[str, Any]:
    """A rule in the provisioning-file format: the group carries folder and org; the panel link is two keys."""
    annotations = dict(api_rule.get("annotations") or {})
    link = {key: annotations.pop(name) for name, key in _LINK_ANNOTATIONS.items() if name in annotations}
    if "panelId" in link:
        link["panelId"] = int(link["panelId"])
    kept = ("uid", "title", "condition", "data", "noDataState", "execErrState", "for", "labels", "isPaused")
    return {**{k: api_rule[k] for k in kept if k in api_rule}, **link, "annotations": annotations}


def provisioning_alerting(api_rules: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """`provisioning/alerting/rules.yaml` from the rules in API format (as JSON dicts)."""
    return {
        "apiVersion": 1,
        "groups": [
            {
                "orgId": ORG_ID,
                "name": GROUP,
                "folder": FOLDER,
                "interval": f"{GROUP_INTERVAL_S}s",
                "rules": [file_rule(r) for r in api_rules],
            }
        ],
    }
