"""The farmer pages: `/` communes, `/v/{village}`, `/d/{device}`, and a farmer's own `/f/{token}` link.

Public pages follow the API's open-data switch (VILLAGE_API_PUBLIC_READ); a farmer's link works either way and
opens only that farmer's devices, plus the air and water of their villages. Errors are pages too, in the
reader's language: a wrong link gets a friendly 404, an InfluxDB outage a 503 that says to try again.
Tokens never reach a log: metrics label requests by route template (`/f/{token}`), not by path.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.auth import PUBLIC, Principal
from api.clock import ClockDep
from api.deps import SettingsDep
from api.errors import GatewayTimeout, Unavailable
from api.routes.devices import device_villages
from api.settings import ApiSettings
from api.timeparams import zone_named
from api.web import advice, views
from api.web.farmers import Farmer, FarmersFile
from api.web.i18n import COOKIE, choose
from api.web.render import WebAssets, Words, css_response, page_response
from devices.ids import is_identifier

logger = logging.getLogger(__name__)

router = APIRouter(include_in_schema=False)

PAGE_MAX_AGE_S = 60
"""Readings arrive every few minutes and pages say "5 phút trước": a minute of caching is honest."""


class PageNotFound(Exception):  # noqa: N818 - a signal between the builders and the page answer
    """Nothing to show at this address (unknown village, device or link)."""


class Closed(Exception):  # noqa: N818
    """The public pages are off (reads need a token) and this is not a farmer's link."""


Builder = Callable[[Words], Awaitable[tuple[str, dict[str, Any]]]]


async def _page(request: Request, settings: ApiSettings, now_ms: int, build: Builder, *, personal: bool) -> Response:
    """Build and render a page, or the error page that says what happened, in the reader's language."""
    started = time.perf_counter()
    assets: WebAssets = request.app.state.web
    lang, remember = choose(request.query_params.get("lang"), request.cookies.get(COOKIE))
    words = Words(lang, zone_named(settings.api_timezone), now_ms)
    status = 200
    try:
        template, context = await build(words)
    except PageNotFound:
        status, template, context = 404, "message.html", {"title_key": "notfound.title", "body_key": "notfound.body"}
    except Closed:
        status, template, context = 403, "message.html", {"title_key": "closed.title", "body_key": "closed.body"}
    except (Unavailable, GatewayTimeout) as exc:
        logger.warning("page %s could not read InfluxDB: %s", _route(request), exc.code)
        status, template, context = (
            503,
            "message.html",
            {"title_key": "unavailable.title", "body_key": "unavailable.body", "retry": True},
        )
    registry = request.app.state.registry_file.current()
    names = {d.id: d.name for d in registry.devices}
    html = assets.render(template, words, **{"names": names, **context, "personal": personal})
    timing = {"Server-Timing": f"app;dur={(time.perf_counter() - started) * 1000:.1f}"}
    if status == 503:
        timing["Retry-After"] = "30"
    return page_response(
        request,
        html,
        lang=lang,
        remember_lang=remember,
        personal=personal,
        max_age_s=PAGE_MAX_AGE_S if status == 200 else 0,
        status=status,
        extra_headers=timing,
    )


def _route(request: Request) -> str:
    return str(getattr(request.scope.get("route"), "path", "?"))


def _scope(request: Request, settings: ApiSettings, caller: Principal, now_ms: int) -> views.Scope:
    return views.Scope(
        reader=request.app.state.reader,
        registry=request.app.state.registry_file.current(),
        caller=caller,
        now_ms=now_ms,
        zone=zone_named(settings.api_timezone),
        offline_after_ms=settings.api_offline_after_s * 1000,
    )


def _public(settings: ApiSettings) -> Principal:
    if not settings.api_public_read:
        raise Closed
    return PUBLIC


def _soil_rule() -> dict[str, float]:
    return {"wp": advice.WILTING_POINT_VWC, "irrigate": advice.IRRIGATE_BELOW_VWC, "fc": advice.FIELD_CAPACITY_VWC}


@router.get("/")
async def villages_page(request: Request, settings: SettingsDep, now_ms: ClockDep) -> Response:
    """Every commune, with its air and how many of its devices work."""

    async def build(_words: Words) -> tuple[str, dict[str, Any]]:
        scope = _scope(request, settings, _public(settings), now_ms)
        return "villages.html", {"villages": await views.villages_overview(scope), "home": "/"}

    return await _page(request, settings, now_ms, build, personal=False)


@router.get("/v/{village}")
async def village_page(request: Request, village: str, settings: SettingsDep, now_ms: ClockDep) -> Response:
    """A commune: air (VN_AQI), water, rain today, fields with irrigation advice, and its stations."""

    async def build(_words: Words) -> tuple[str, dict[str, Any]]:
        scope = _scope(request, settings, _public(settings), now_ms)
        if not is_identifier(village):
            raise PageNotFound
        page = await views.village_page(scope, village)
        if scope.registry.village(village) is None and not page.total:
            raise PageNotFound
        return "village.html", {"v": page, "home": "/", "link": _links(""), "soil_rule": _soil_rule()}

    return await _page(request, settings, now_ms, build, personal=False)


@router.get("/d/{device}")
async def device_page(request: Request, device: str, settings: SettingsDep, now_ms: ClockDep) -> Response:
    """One device: latest values with units, 24-hour lines, last update, offline and battery notices."""

    async def build(_words: Words) -> tuple[str, dict[str, Any]]:
        scope = _scope(request, settings, _public(settings), now_ms)
        page = await _device(scope, device)
        back = {"href": f"/v/{page.village}", "key": "back.village", "name": page.village_name}
        return "device.html", {"d": page, "home": "/", "back": back, "soil_rule": _soil_rule()}

    return await _page(request, settings, now_ms, build, personal=False)


async def _device(scope: views.Scope, device: str) -> views.DevicePage:
    if not is_identifier(device):
        raise PageNotFound
    entry = scope.registry.by_id.get(device)
    villages = {entry.village} if entry else set(await device_villages(scope.reader, scope.registry, device))
    readable = scope.caller.readable(sorted(villages))
    if not readable:
        raise PageNotFound
    state = await views.device_state(scope, device, readable[0])
    if state is None:
        raise PageNotFound
    return await views.device_page(scope, state)


def _farmer(request: Request, token: str) -> Farmer:
    farmers: FarmersFile = request.app.state.farmers_file
    found = farmers.current().by_token(token) if len(token) <= 128 else None
    if found is None:
        raise PageNotFound
    return found


async def _farmer_scope(request: Request, settings: ApiSettings, farmer: Farmer, now_ms: int) -> views.Scope:
    """The farmer's rights: the villages of their devices (registered there, or sending data tagged so)."""
    registry = request.app.state.registry_file.current()
    villages: set[str] = set()
    for device in farmer.devices:
        entry = registry.by_id.get(device)
        villages |= {entry.village} if entry else await device_villages(request.app.state.reader, registry, device)
    caller = Principal(name=f"farmer:{farmer.id}", villages=frozenset(villages))
    return _scope(request, settings, caller, now_ms)


@router.get("/f/{token}")
async def farmer_page(request: Request, token: str, settings: SettingsDep, now_ms: ClockDep) -> Response:
    """A farmer's own page: their fields first, then the air, water and rain of their communes."""

    async def build(_words: Words) -> tuple[str, dict[str, Any]]:
        farmer = _farmer(request, token)
        scope = await _farmer_scope(request, settings, farmer, now_ms)
        mine = frozenset(farmer.devices)
        pages = [await views.village_page(scope, v, only=mine) for v in sorted(scope.caller.villages or ())]
        found = {c.id for p in pages for c in (*p.fields, *p.stations)}
        context = {
            "farmer": farmer,
            "villages": pages,
            "missing": [d for d in farmer.devices if d not in found],
            "home": f"/f/{token}",
            "link": _links(f"/f/{token}"),
            "soil_rule": _soil_rule(),
        }
        return "farmer.html", context

    return await _page(request, settings, now_ms, build, personal=True)


@router.get("/f/{token}/d/{device}")
async def farmer_device_page(
    request: Request, token: str, device: str, settings: SettingsDep, now_ms: ClockDep
) -> Response:
    """One of the farmer's devices; any other device is "not found" on this link."""

    async def build(_words: Words) -> tuple[str, dict[str, Any]]:
        farmer = _farmer(request, token)
        if device not in farmer.devices:
            raise PageNotFound
        scope = await _farmer_scope(request, settings, farmer, now_ms)
        page = await _device(scope, device)
        back = {"href": f"/f/{token}", "key": "back.home", "name": ""}
        return "device.html", {"d": page, "home": f"/f/{token}", "back": back, "soil_rule": _soil_rule()}

    return await _page(request, settings, now_ms, build, personal=True)


def _links(prefix: str) -> Callable[[str], str]:
    def device_link(device: str) -> str:
        return f"{prefix}/d/{device}"

    return device_link


@router.get("/static/farmer.{digest}.css")
async def stylesheet(request: Request, digest: str) -> Response:
    """The one stylesheet of every page."""
    return css_response(request.app.state.web, digest)
