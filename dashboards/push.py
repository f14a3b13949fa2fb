"""`village dashboards push`: upload data sources, folder, dashboards and the rule group to a running Grafana.

For installs that do not mount the provisioning files. Objects keep the same uids as the provisioned ones, so
pushing twice updates in place. Five endpoints of Grafana's HTTP API, called with httpx; errors are translated
once, here. (grafana-client was tried first and dropped: its dependency urllib3-future replaces the `urllib3`
package in the environment it is installed into, which breaks `requests` for every other tool there.)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

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


def connect(settings: DashboardSettings, *, timeout_s: float = 30.0) -> httpx.Client:
    """A client for VILLAGE_GRAFANA_URL with the token, or user and password.

    Raises:
        PushError: no credentials are configured.
    """
    headers = {"Accept": "application/json"}
    auth: tuple[str, str] | None = None
    if settings.grafana_token is not None:
        headers["Authorization"] = f"Bearer {settings.grafana_token.get_secret_value()}"
    elif settings.grafana_user:
        password = settings.grafana_password.get_secret_value() if settings.grafana_password else ""
        auth = (settings.grafana_user, password)
    else:
        raise PushError("set VILLAGE_GRAFANA_TOKEN (or VILLAGE_GRAFANA_USER and VILLAGE_GRAFANA_PASSWORD)")
    return httpx.Client(base_url=settings.grafana_url.rstrip("/"), headers=headers, auth=auth, timeout=timeout_s)


def push(api: httpx.Client, to_send: PushPlan) -> list[str]:
    """Create or update everything; returns one line per object for the operator.

    Raises:
        PushError: Grafana refused an object or could not be reached; nothing after it was sent.
    """
    done: list[str] = []
    try:
        done.extend(_upsert_datasource(api, source) for source in to_send.datasources)
        if not _exists(api, f"/api/folders/{FOLDER_UID}"):
            _send(api, "POST", "/api/folders", {"uid": FOLDER_UID, "title": FOLDER})
        done.append(f"folder {FOLDER}")
        for dashboard in to_send.dashboards:
            _send(api, "POST", "/api/dashboards/db", dashboard)
            done.append(f"dashboard {dashboard['dashboard']['title']}")
        _send(api, "PUT", f"/api/v1/provisioning/folder/{FOLDER_UID}/rule-groups/{GROUP}", to_send.rule_group)
        done.append(f"alert rules {GROUP} ({len(to_send.rule_group['rules'])})")
    except (httpx.HTTPError, _Refused) as exc:
        raise PushError(f"Grafana refused the upload after {len(done)} objects: {exc}") from exc
    return done


class _Refused(Exception):  # noqa: N818 - internal, translated to PushError in push()
    pass


def _send(api: httpx.Client, method: str, path: str, body: dict[str, Any]) -> None:
    response = api.request(method, path, json=body)
    if response.status_code >= 300:
        raise _Refused(f"{method} {path} answered {response.status_code}: {response.text[:300]}")


def _upsert_datasource(api: httpx.Client, source: dict[str, Any]) -> str:
    uid = source["uid"]
    if _exists(api, f"/api/datasources/uid/{uid}"):
        _send(api, "PUT", f"/api/datasources/uid/{uid}", source)
    else:
        _send(api, "POST", "/api/datasources", source)
    return f"data source {source['name']}"


def _exists(api: httpx.Client, path: str) -> bool:
    response = api.get(path)
    if response.status_code == NOT_FOUND:
        return False
    if response.status_code >= 300:
        raise _Refused(f"GET {path} answered {response.status_code}: {response.text[:300]}")
    return True
