"""Templates, the stylesheet and the HTTP answer of a page: small, cacheable, no script, nothing external.

The stylesheet is rendered once from api/web/palette.py and served under a name that carries its hash, so
phones keep it for a year and a new version is a new name. Pages carry a strong ETag (a revisit over 3G costs
a 304), `Vary: Cookie` (the language), and a Content-Security-Policy that forbids every script and every
request to another host.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import Response
from jinja2 import Environment, PackageLoader, StrictUndefined

from api.web import advice, fmt, palette
from api.web.i18n import COOKIE, COOKIE_MAX_AGE_S, Lang, text
from devices.quantities import QUANTITIES
from devices.standards import VN_AQI_CATEGORIES

CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'none'; base-uri 'none'; "
    "frame-ancestors 'none'"
)
HTML = "text/html; charset=utf-8"
CSS_MAX_AGE_S = 365 * 24 * 3600


@dataclass(frozen=True, slots=True)
class Words:
    """What templates call to put numbers, times and words on the page in the reader's language."""

    lang: Lang
    zone: ZoneInfo
    now_ms: int

    def t(self, key: str, **values: object) -> str:
        """The string `key`, with `{name}` placeholders filled."""
        found = text(self.lang, key)
        return found.format(**values) if values else found

    def num(self, value: float, decimals: int = 1) -> str:
        return fmt.number(value, self.lang, decimals=decimals)

    def val(self, quantity: str, value: float) -> str:
        """A reading with its quantity's decimals."""
        return fmt.quantity_value(quantity, value, self.lang)

    def unit(self, quantity: str) -> str:
        return fmt.DISPLAY_UNITS.get(quantity, QUANTITIES[quantity].unit)

    def label(self, quantity: str) -> str:
        found = QUANTITIES[quantity]
        return found.label_vi if self.lang == "vi" else found.label_en

    def clock(self, ts_ms: int) -> str:
        return fmt.clock(ts_ms, self.zone)

    def ago(self, ts_ms: int) -> str:
        return fmt.ago(ts_ms, self.now_ms, self.lang)

    def word(self, verdict: advice.Verdict) -> str:
        """A verdict's status word; air verdicts use the VN_AQI category word of their band."""
        if verdict.key.startswith("air."):
            return self.aqi_word(int(verdict.key.removeprefix("air.")))
        return self.t(verdict.key + ".word")

    def advice(self, verdict: advice.Verdict) -> str:
        """A verdict's one line of advice."""
        return self.t(verdict.key + ".advice")

    def aqi_word(self, band: int) -> str:
        """The VN_AQI category word (QĐ 1459 Bảng 1): Tốt, Trung bình, Kém, Xấu, Rất xấu, Nguy hại."""
        category = VN_AQI_CATEGORIES[band]
        return category.label_vi if self.lang == "vi" else category.label_en

    def air_normal(self, band: int) -> str:
        """QĐ 1459 Bảng 5 advice for most people."""
        return (advice.AIR_ADVICE_NORMAL_VI if self.lang == "vi" else advice.AIR_ADVICE_NORMAL_EN)[band]

    def air_sensitive(self, band: int) -> str:
        """QĐ 1459 Bảng 5 advice for sensitive people."""
        return (advice.AIR_ADVICE_SENSITIVE_VI if self.lang == "vi" else advice.AIR_ADVICE_SENSITIVE_EN)[band]


class WebAssets:
    """The Jinja2 environment and the rendered stylesheet, built once per app."""

    def __init__(self) -> None:
        self.env = Environment(
            loader=PackageLoader("api.web", "templates"),
            autoescape=True,
            trim_blocks=True,
            lstrip_blocks=True,
            undefined=StrictUndefined,
        )
        self.env.globals["nodata"] = advice.NO_DATA  # imported macros see globals, not the page's context
        css = self.env.get_template("farmer.css.j2").render(colours=palette.COLOURS, aqi=palette.AQI_COLOURS)
        self.css = " ".join(line.strip() for line in css.splitlines() if line.strip()).encode()
        self.css_digest = hashlib.blake2b(self.css, digest_size=6).hexdigest()
        self.css_url = f"/static/farmer.{self.css_digest}.css"

    def render(self, template: str, words: Words, **context: Any) -> str:  # noqa: ANN401 - template values
        """The page `template` with `words` as `w` and the stylesheet's URL."""
        values = {"home": "/", "names": {}, "personal": False, **context}
        return self.env.get_template(template).render(w=words, lang=words.lang, css_url=self.css_url, **values)


def page_response(
    request: Request,
    html: str,
    *,
    lang: Lang,
    remember_lang: bool,
    personal: bool,
    max_age_s: int,
    status: int = 200,
    extra_headers: Mapping[str, str] | None = None,
) -> Response:
    """The HTML answer: ETag (304 when unchanged), caching, language cookie, and the security headers.

    `personal` pages (a farmer's link) are never stored by shared caches nor indexed by search engines.
    """
    body = html.encode()
    etag = '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'
    headers = {
        "ETag": etag,
        "Cache-Control": f"{'private' if personal else 'public'}, max-age={max_age_s}",
        "Vary": "Cookie",  # the gzip middleware adds Accept-Encoding to what it compresses
        "Content-Language": lang,
        "Content-Security-Policy": CSP,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        **(extra_headers or {}),
    }
    if personal:
        headers["X-Robots-Tag"] = "noindex, nofollow"
    offered = {tag.strip().removeprefix("W/") for tag in request.headers.get("if-none-match", "").split(",")}
    response = (
        Response(status_code=304, headers=headers)
        if status == 200 and etag in offered
        else Response(body, status_code=status, media_type=HTML, headers=headers)
    )
    if remember_lang:
        response.set_cookie(COOKIE, lang, max_age=COOKIE_MAX_AGE_S, path="/", samesite="lax", httponly=True)
    return response


def css_response(assets: WebAssets, digest: str) -> Response:
    """The stylesheet: immutable for a year under its own digest, briefly for an outdated one."""
    max_age = CSS_MAX_AGE_S if digest == assets.css_digest else 300
    immutable = ", immutable" if digest == assets.css_digest else ""
    headers = {"Cache-Control": f"public, max-age={max_age}{immutable}", "X-Content-Type-Options": "nosniff"}
    return Response(assets.css, media_type="text/css; charset=utf-8", headers=headers)
