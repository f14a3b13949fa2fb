"""`village dashboards push`: upload data sources, folder, dashboards and the rule group to a running Grafana.

For installs that do not mount the provisioning files. Objects keep the same uids as the provisioned ones, so
pushing twice updates in place. grafana-client does the HTTP; its errors are translated once, here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from grafana_client.api import GrafanaApi
from grafana_client.client import GrafanaClientError, GrafanaException

from dashboards.alerts import FOLDER_UID, GROUP, GROUP_INTERVAL_S
from dashboards.boards.common import FOLDER
from dashboards.datasources import influx_datasource, stations_datasource
from dashboards.errors import PushError
from dashboards.provisioning import Build, to_plain
from dashboards.settings import DashboardSettings

NOT_FOUND = 404


@dataclass(frozen=True, slots=True)
class PushPlan:
    """What `push` sends, built without any I/O so it can be inspected and tested."""

    datasources: list[dict[str, Any]]
    folder: dict[str, str]
    dashboards: list[dict[str, Any]]
    rule_group: dict[str, Any]


def plan(build: Build, settings: DashboardSettings, *, influx_url: str | None = None) -> PushPlan:
    """The objects to upload; the InfluxDB URL is the one Grafana reaches, which may differ from ours."""
    password = settings.influx_password.get_secret_value() if settings.influx_password else ""
    influx = influx_datasource(
        url=influx_url or settings.influx_url,
        database=settings.influx_db,
        user=settings.influx_username or "",
        password=password,
    )
    dashboards = [
        {"dashboard": to_plain(d), "folderUid": FOLDER_UID, "overwrite": True, "message": "village dashboards push"}
        for d in build.dashboards
    ]
    group = {"title": GROUP, "folderUid": FOLDER_UID, "interval": GROUP_INTERVAL_S, "rules": build.rules}
    return PushPlan([influx, stations_datasource()], {"uid": FOLDER_UID, "title": FOLDER}, dashboards, group)


def connect(settings: DashboardSettings) -> GrafanaApi:
    """A client for VILLAGE_GRAFANA_URL with the token, or user and password."""
    if settings.grafana_token is not None:
        credential: Any = settings.grafana_token.get_secret_value()
    elif settings.grafana_user:
        password = settings.grafana_password.get_secret_value() if settings.grafana_password else ""
        credential = (settings.grafana_user, password)
    else:
        raise PushError("set VILLAGE_GRAFANA_TOKEN (or VILLAGE_GRAFANA_USER and VILLAGE_GRAFANA_PASSWORD)")
    api: GrafanaApi = GrafanaApi.from_url(settings.grafana_url, credential=credential)
    return api


def push(api: GrafanaApi, to_send: PushPlan) -> list[str]:
    """Create or update everything; returns one line per object for the operator.

    Raises:
        PushError: Grafana refused an object; nothing after it was sent.
    """
    done: list[str] = []
    try:
        done.extend(_upsert_datasource(api, source) for source in to_send.datasources)
        if not _exists(lambda: api.folder.get_folder(FOLDER_UID)):  # type: ignore[no-untyped-call]
            api.folder.create_folder(FOLDER, uid=FOLDER_UID)  # type: ignore[no-untyped-call]
        done.append(f"folder {FOLDER}")
        for dashboard in to_send.dashboards:
            api.dashboard.update_dashboard(dashboard)  # type: ignore[no-untyped-call]
            done.append(f"dashboard {dashboard['dashboard']['title']}")
        api.alertingprovisioning.update_rule_group(FOLDER_UID, GROUP, to_send.rule_group)  # type: ignore[no-untyped-call]
        done.append(f"alert rules {GROUP} ({len(to_send.rule_group['rules'])})")
    except GrafanaException as exc:
        raise PushError(f"Grafana refused the upload after {len(done)} objects: {exc}") from exc
    return done


def _upsert_datasource(api: GrafanaApi, source: dict[str, Any]) -> str:
    uid = source["uid"]
    if _exists(lambda: api.datasource.get_datasource_by_uid(uid)):  # type: ignore[no-untyped-call]
        api.datasource.update_datasource_by_uid(uid, source)  # type: ignore[no-untyped-call]
    else:
        api.datasource.create_datasource(source)  # type: ignore[no-untyped-call]
    return f"data source {source['name']}"


def _exists(get: Callable[[], object]) -> bool:
    try:
        get()
    except GrafanaClientError as exc:
        if exc.status_code == NOT_FOUND:
            return False
        raise
    return True
