"""The pages in real headless Chromium (Debian's `chromium`), at a cheap phone's size, on the scene's data."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from tests.web.conftest import WebData

PHONE = {"width": 360, "height": 780}
NARROWEST = {"width": 320, "height": 640}
# Known-good flags for a closed network: without the background-networking ones Chromium keeps dialling out.
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
INSTALL_HINT = "Chromium is missing: sudo apt-get install -y chromium (./dev test installs it)"


def chromium_path() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    assert found is not None, INSTALL_HINT  # a failure, never a skip: the page must be tested in a browser
    return found


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=FLAGS, headless=True)
        yield browser
        browser.close()


@dataclass
class Visit:
    """A page opened in a fresh phone-sized context, with everything the browser reported."""

    page: Page
    context: BrowserContext
    console: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def problems(self, site: str) -> list[str]:
        """Console errors and warnings, failed loads, and any request that left the app's own origin."""
        origin = urlsplit(site).netloc
        elsewhere = [u for u in self.requests if urlsplit(u).scheme != "data" and urlsplit(u).netloc != origin]
        return self.console + self.failures + [f"request to another host: {u}" for u in elsewhere]

    def horizontal_overflow(self) -> int:
        return int(self.page.evaluate("document.documentElement.scrollWidth - window.innerWidth"))

    def smallest_text_px(self) -> float:
        return float(
            self.page.evaluate(
                """Math.min(...[...document.querySelectorAll('body *')]
                     .filter(e => [...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim()))
                     .filter(e => e.getClientRects().length)
                     .map(e => parseFloat(getComputedStyle(e).fontSize)))"""
            )
        )


@pytest.fixture
def visit(chromium: Browser) -> Iterator[type[Visit]]:
    opened: list[BrowserContext] = []

    class Opener(Visit):
        @classmethod
        def to(cls, url: str, *, viewport: dict[str, int] = PHONE, javascript: bool = True, status: int = 200) -> Visit:
            context = chromium.new_context(
                viewport=viewport,
                device_scale_factor=2,
                is_mobile=True,
                has_touch=True,
                java_script_enabled=javascript,
                locale="vi-VN",
                timezone_id="Asia/Ho_Chi_Minh",
            )
            opened.append(context)
            page = context.new_page()
            found = cls(page, context)
            page.on(
                "console",
                lambda m: (
                    found.console.append(f"console {m.type}: {m.text}") if m.type in ("error", "warning") else None
                ),
            )
            page.on("pageerror", lambda e: found.console.append(f"page error: {e}"))
            page.on("request", lambda r: found.requests.append(r.url))
            page.on("requestfailed", lambda r: found.failures.append(f"failed: {r.url} {r.failure}"))
            response = page.goto(url, wait_until="load")
            assert response is not None and response.status == status, (url, response and response.status)
            return found

    yield Opener  # type: ignore[misc]
    for context in opened:
        context.close()


def test_the_village_page_on_a_phone(site: str, visit: type[Visit], artifacts: Path) -> None:
    shown = visit.to(f"{site}/v/phu-an")  # type: ignore[attr-defined]
    page = shown.page
    assert page.evaluate("document.documentElement.lang") == "vi"
    badge = page.locator("#air-phu-an .aqi")
    assert badge.is_visible() and "Kém" in badge.inner_text()
    advice = page.get_by_text("Không khí kém — hạn chế ra ngoài")
    assert advice.first.is_visible()
    # The badge is the regulation's orange with black text, and a shape besides the colour.
    assert badge.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(255, 126, 0)"
    assert badge.evaluate("e => getComputedStyle(e).color") == "rgb(0, 0, 0)"
    assert badge.locator("svg use").get_attribute("href") == "#warn"
    assert page.get_by_text("Đất khô — nên tưới").first.is_visible()
    assert shown.horizontal_overflow() <= 0
    assert shown.smallest_text_px() >= 16
    assert shown.problems(site) == []
    page.screenshot(path=str(artifacts / "village-phone.png"))
    page.screenshot(path=str(artifacts / "village-phone-full.png"), full_page=True)
    assert (artifacts / "village-phone.png").stat().st_size > 10_000


def test_the_page_weighs_what_the_browser_downloads(site: str, visit: type[Visit]) -> None:
    shown = visit.to(f"{site}/v/phu-an")  # type: ignore[attr-defined]
    transferred = shown.page.evaluate(
        """[performance.getEntriesByType('navigation')[0], ...performance.getEntriesByType('resource')]
             .reduce((sum, e) => sum + e.transferSize, 0)"""
    )
    kinds = shown.page.evaluate("performance.getEntriesByType('resource').map(e => e.initiatorType)")
    assert kinds == ["link"]  # the stylesheet, nothing else
    assert 0 < transferred <= 30 * 1024


@pytest.mark.parametrize("path", ["/", "/v/phu-an", "/d/phu-an-air-01", "/d/phu-an-water-01", "/d/phu-an-agri-03"])
def test_every_page_fits_320_px_without_sideways_scrolling(site: str, visit: type[Visit], path: str) -> None:
    shown = visit.to(f"{site}{path}", viewport=NARROWEST)  # type: ignore[attr-defined]
    assert shown.horizontal_overflow() <= 0
    assert shown.smallest_text_px() >= 16
    assert shown.problems(site) == []


def test_a_farmers_link_in_the_browser(site: str, web_data: WebData, visit: type[Visit], artifacts: Path) -> None:
    binh = web_data.farmer("tran-thi-binh")
    shown = visit.to(f"{site}/f/{binh.token}")  # type: ignore[attr-defined]
    ids = shown.page.eval_on_selector_all("li[id^='d-']", "items => items.map(i => i.id)")
    assert ids == ["d-phu-an-agri-02", "d-phu-an-agri-03"]
    assert shown.page.get_by_text("Pin yếu (3,21 V)").is_visible()
    assert shown.problems(site) == []
    shown.page.screenshot(path=str(artifacts / "farmer-phone.png"), full_page=True)
    shown.page.click("#d-phu-an-agri-03 a")
    assert shown.page.url.endswith(f"/f/{binh.token}/d/phu-an-agri-03")
    assert shown.page.locator("svg.spark").count() >= 3

    lost = visit.to(f"{site}/f/not-a-real-link-000000000", status=404)  # type: ignore[attr-defined]
    assert lost.page.get_by_role("heading", name="Không tìm thấy trang").is_visible()
    assert lost.page.get_by_text("hỏi cán bộ xã").is_visible()
    assert [p for p in lost.problems(site) if "404" not in p] == []  # the 404 itself is reported by Chromium


def test_the_english_switch_works_without_javascript(site: str, visit: type[Visit], artifacts: Path) -> None:
    shown = visit.to(f"{site}/v/phu-an", javascript=False)  # type: ignore[attr-defined]
    page = shown.page
    page.get_by_role("link", name="English").click()
    page.wait_for_load_state("load")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_text("Poor air — limit time outdoors").first.is_visible()
    page.click("#d-phu-an-agri-01 a")  # the cookie keeps English on the next page
    page.wait_for_load_state("load")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_text("Dry soil — water the field").first.is_visible()
    page.screenshot(path=str(artifacts / "device-phone-en.png"), full_page=True)
    page.get_by_role("link", name="Tiếng Việt").click()
    page.wait_for_load_state("load")
    assert page.locator("html").get_attribute("lang") == "vi"
    assert shown.problems(site) == []
