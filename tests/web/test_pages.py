"""The pages over HTTP, on the scene's real data: what they say is computed from the samples that were sent."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime

import httpx
import numpy as np
import pytest

from api.web import advice
from api.web.farmers import Farmer, new_token, save_farmers
from tests.web import expected, scene
from tests.web.conftest import WebData
from tests.web.html import Page

FIFTEEN_MIN_MS = 15 * 60_000


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def fetch(url: str, **kwargs: object) -> tuple[httpx.Response, Page, tuple[int, int]]:
    """The answer, its parsed page, and the clock just before and after (the page's "now" lies between)."""
    before = now_ms()
    response = httpx.get(url, timeout=30, **kwargs)  # type: ignore[arg-type]
    return response, Page(response.text), (before, now_ms())


def either(compute: Callable[[int], object], window: tuple[int, int]) -> set[object]:
    """The expectation at both ends of the request: a boundary may pass while the page is built."""
    return {compute(window[0]), compute(window[1])}


def test_the_village_page_says_what_the_day_means(site: str, web_data: WebData) -> None:
    response, page, window = fetch(f"{site}/v/phu-an")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert '<html lang="vi">' in response.text

    pm = {q: web_data.truth("phu-an-air-01", q) for q in ("pm25", "pm10")}
    values = either(lambda t: expected.station_aqi(pm, now_ms=t), window)
    words = {expected.category_word(int(v)) for v in values}  # type: ignore[call-overload]
    assert words == {"Kém"}, "the scene is designed for poor air"
    air = page.text("air-phu-an")
    assert any(f" {v} Kém" in f" {air}" for v in values), air
    assert "Không khí kém — hạn chế ra ngoài" in air
    assert "QĐ 1459/QĐ-TCMT" in air  # the method and that the index is indicative (QĐ 1459 Bảng 3)

    water = page.text("water-phu-an")
    last_do = web_data.truth("phu-an-water-01", "do")[-1][1]
    assert last_do < 4.0, "the scene's canal is short of oxygen"
    assert "Kém" in water and "Nước kém — không dùng cho sinh hoạt" in water
    assert f"Oxy hòa tan {expected.vi_decimal(last_do, 1)} mg/L" in water

    gauges = {d: web_data.truth(d, "rain") for d in ("phu-an-agri-01", "phu-an-agri-02", "phu-an-agri-03")}
    rain = page.text("rain-phu-an")
    totals = either(lambda t: expected.rain_today(gauges, now_ms=t), window)
    shown = {
        "Chưa có số đo" if r is None else "Không mưa" if r < 0.05 else f"{expected.vi_decimal(r, 1)} mm"  # type: ignore[operator]
        for r in totals
    }
    assert any(s in rain for s in shown), (rain, shown)

    last = max(t for s in web_data.sent for t in [int(s.telemetry.ts)] if s.device.village == "phu-an")
    local = datetime.fromtimestamp(last / 1000, tz=expected.VN).strftime("%H:%M %d/%m")
    assert f"Số liệu lúc {local}" in response.text


def test_each_field_gets_its_advice_and_its_notices(site: str, web_data: WebData) -> None:
    _, page, _ = fetch(f"{site}/v/phu-an")
    assert page.with_prefix("d-") == [
        "d-phu-an-agri-01",
        "d-phu-an-agri-02",
        "d-phu-an-agri-03",
        "d-phu-an-air-01",
        "d-phu-an-water-01",
    ]
    dry = web_data.truth("phu-an-agri-01", "soil_moisture")[-1][1]
    assert advice.WILTING_POINT_VWC <= dry < advice.IRRIGATE_BELOW_VWC, "the scene's first field is dry"
    field = page.text("d-phu-an-agri-01")
    assert f"{expected.vi_decimal(dry, 1)} %" in field and "Đất khô — nên tưới" in field
    assert "Cập nhật" in field and "Mất kết nối" not in field

    moist = web_data.truth("phu-an-agri-02", "soil_moisture")[-1][1]
    assert advice.IRRIGATE_BELOW_VWC <= moist <= advice.FIELD_CAPACITY_VWC
    assert "Đất đủ ẩm — chưa cần tưới" in page.text("d-phu-an-agri-02")

    silent = page.text("d-phu-an-agri-03")
    assert "Mất kết nối — số đo cuối 2 giờ trước" in silent
    assert "Pin yếu (3,21 V) — cần sạc hoặc thay pin" in silent
    assert "Số đo cũ" in silent  # the advice of an old reading says so


def test_the_commune_list_shows_each_communes_air(site: str, web_data: WebData) -> None:
    response, page, window = fetch(f"{site}/")
    assert response.status_code == 200
    assert page.with_prefix("v-") == ["v-an-tay", "v-phu-an", "v-thuong-tan"]
    clean = {q: web_data.truth("an-tay-air-01", q) for q in ("pm25", "pm10")}
    words = {expected.category_word(int(v)) for v in either(lambda t: expected.station_aqi(clean, now_ms=t), window)}  # type: ignore[call-overload]
    assert words == {"Tốt"}
    assert "Tốt" in page.text("v-an-tay") and "2/2 thiết bị đang hoạt động" in page.text("v-an-tay")
    assert "Kém" in page.text("v-phu-an") and "4/5 thiết bị đang hoạt động" in page.text("v-phu-an")


def test_a_commune_without_boards_says_so_instead_of_guessing(site: str) -> None:
    response, page, _ = fetch(f"{site}/v/thuong-tan")
    assert response.status_code == 200
    assert "Chưa có số liệu" in page.text("air-thuong-tan") and "ít nhất 2 trong 3 giờ" in page.text("air-thuong-tan")
    assert "Chưa có số liệu" in page.text("water-thuong-tan")
    assert "Chưa có số đo" in page.text("rain-thuong-tan")
    assert "Chưa có cảm biến ruộng." in response.text and page.with_prefix("d-") == []
    assert "0/0 thiết bị" in Page(httpx.get(f"{site}/", timeout=30).text).text("v-thuong-tan")


def _day_total(samples: list[tuple[int, float]], now: int) -> float:
    start = now - 24 * 3_600_000
    start -= start % FIFTEEN_MIN_MS
    return float(sum(v for t, v in samples if start <= t < now))


def _bucket_extremes(samples: list[tuple[int, float]], now: int) -> tuple[float, float]:
    start = now - 24 * 3_600_000
    start -= start % FIFTEEN_MIN_MS
    ts = np.array([t for t, _ in samples])
    values = np.array([v for _, v in samples])
    inside = (ts >= start) & (ts < now)
    buckets = (ts[inside] - start) // FIFTEEN_MIN_MS
    means = [values[inside][buckets == b].mean() for b in np.unique(buckets)]
    return float(min(means)), float(max(means))


def test_the_device_page_shows_every_latest_value_and_its_day(site: str, web_data: WebData) -> None:
    response, page, window = fetch(f"{site}/d/phu-an-agri-01")
    assert response.status_code == 200
    assert page.with_prefix("q-") == ["q-rain", "q-soil_moisture", "q-soil_temp", "q-bat", "q-rssi"]
    for quantity, unit, decimals in (("soil_moisture", "%", 1), ("soil_temp", "°C", 1)):
        samples = web_data.truth("phu-an-agri-01", quantity)
        text = page.text(f"q-{quantity}")
        assert f"{expected.vi_decimal(samples[-1][1], decimals)} {unit}" in text, text
        extremes = either(lambda t, s=samples: _bucket_extremes(s, t), window)  # type: ignore[misc]
        shown = [(expected.vi_decimal(low, decimals), expected.vi_decimal(high, decimals)) for low, high in extremes]  # type: ignore[misc]
        lines = {f"24 giờ qua: thấp nhất {low} {unit}, cao nhất {high} {unit}" for low, high in shown}
        assert any(line in text for line in lines), (text, lines)
    rain = web_data.truth("phu-an-agri-01", "rain")
    assert f"{expected.vi_decimal(rain[-1][1], 1)} mm" in page.text("q-rain")
    totals = either(lambda t: _day_total(rain, t), window)
    assert any(f"24 giờ qua: tổng {expected.vi_decimal(x, 1)} mm" in page.text("q-rain") for x in totals)  # type: ignore[arg-type]
    assert response.text.count('<svg class="spark"') == 5
    assert "Đất khô — nên tưới" in response.text and re.search(r"Cập nhật \d+ phút trước", response.text)


def test_a_doubtful_reading_is_marked_and_its_advice_follows_it(site: str, web_data: WebData) -> None:
    (quantity, value) = scene.IMPLAUSIBLE_LAST["an-tay-agri-01"]
    assert web_data.truth("an-tay-agri-01", quantity)[-1][1] == value > advice.SATURATION_VWC
    page = Page(httpx.get(f"{site}/d/an-tay-agri-01", timeout=30).text)
    assert "Số đo đáng ngờ — nên kiểm tra cảm biến" in page.text("q-soil_moisture")  # flagged by the ingestor
    assert "Số đo đáng ngờ" not in page.text("q-soil_temp")
    assert "Đất đẫm nước — không tưới, kiểm tra thoát nước" in page.html


def test_an_air_station_page_shows_its_index_and_a_water_station_its_status(site: str) -> None:
    air = Page(httpx.get(f"{site}/d/phu-an-air-01", timeout=30).text)
    assert "Không khí kém — hạn chế ra ngoài" in air.text("air-phu-an-air-01")
    water = Page(httpx.get(f"{site}/d/phu-an-water-01", timeout=30).text)
    assert "Nước kém" in water.text("water-phu-an-water-01")


def test_a_farmers_link_shows_only_that_farmers_fields(site: str, web_data: WebData) -> None:
    binh = web_data.farmer("tran-thi-binh")
    response, page, _ = fetch(f"{site}/f/{binh.token}")
    assert response.status_code == 200
    assert "Chào Trần Thị Bình" in response.text
    assert page.with_prefix("d-") == ["d-phu-an-agri-02", "d-phu-an-agri-03"]
    assert page.with_prefix("air-") == ["air-phu-an"] and "Kém" in page.text("air-phu-an")
    assert page.with_prefix("water-") == ["water-phu-an"]
    assert all(url.startswith((f"/f/{binh.token}", "/static/")) or url in {"?lang=en", "data:,"} for url in page.urls)
    assert response.headers["cache-control"].startswith("private")
    assert response.headers["x-robots-tag"] == "noindex, nofollow"
    assert response.headers["referrer-policy"] == "no-referrer"

    an = web_data.farmer("nguyen-van-an")
    page_an = Page(httpx.get(f"{site}/f/{an.token}", timeout=30).text)
    assert page_an.with_prefix("d-") == ["d-phu-an-agri-01"]
    assert "Đất khô — nên tưới" in page_an.text("d-phu-an-agri-01")


def test_a_farmer_opens_their_own_devices_and_no_other(site: str, web_data: WebData) -> None:
    binh = web_data.farmer("tran-thi-binh")
    mine = httpx.get(f"{site}/f/{binh.token}/d/phu-an-agri-03", timeout=30)
    assert mine.status_code == 200 and "Pin yếu" in mine.text and f'href="/f/{binh.token}"' in mine.text
    for other in ("phu-an-agri-01", "an-tay-agri-01", "phu-an-air-01", "../v/phu-an"):
        answer = httpx.get(f"{site}/f/{binh.token}/d/{other}", timeout=30)
        assert answer.status_code == 404, other


def test_an_unknown_link_gets_a_friendly_page_in_the_readers_language(site: str, web_data: WebData) -> None:
    token = new_token()
    response = httpx.get(f"{site}/f/{token}", timeout=30)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert '<html lang="vi">' in response.text
    assert "Không tìm thấy trang" in response.text and "hỏi cán bộ xã" in response.text
    english = httpx.get(f"{site}/f/{token}?lang=en", timeout=30)
    assert english.status_code == 404 and "ask the commune officer for a new link" in english.text
    for path in ("/v/no-such-commune", "/d/no-such-board", "/v/Bad%20Id", f"/f/{'x' * 500}"):
        assert httpx.get(f"{site}{path}", timeout=30).status_code == 404, path


def test_tokens_stay_out_of_logs_and_metrics(site: str, web_data: WebData, caplog: pytest.LogCaptureFixture) -> None:
    token = web_data.farmer("nguyen-van-an").token
    caplog.set_level("DEBUG")
    assert httpx.get(f"{site}/f/{token}", timeout=30).status_code == 200
    metrics = httpx.get(f"{site}/metrics", timeout=30).text
    ours = [
        r.getMessage() for r in caplog.records if r.name.split(".")[0] in ("api", "uvicorn", "starlette", "fastapi")
    ]
    assert not [line for line in ours if token in line] and token not in metrics
    assert 'route="/f/{token}"' in metrics


@contextmanager
def extra_farmer(web_data: WebData) -> Iterator[Farmer]:
    farmer = Farmer(id="tam", name="Võ Văn Tám", devices=("an-tay-agri-01",), token=new_token())
    save_farmers(web_data.farmers_path, web_data.farmers.with_farmer(farmer))
    try:
        yield farmer
    finally:
        save_farmers(web_data.farmers_path, web_data.farmers)


def test_a_new_link_works_at_once_and_a_removed_one_stops(site: str, web_data: WebData) -> None:
    with extra_farmer(web_data) as farmer:
        page = Page(httpx.get(f"{site}/f/{farmer.token}", timeout=30).text)
        assert page.with_prefix("d-") == ["d-an-tay-agri-01"] and page.with_prefix("air-") == ["air-an-tay"]
    assert httpx.get(f"{site}/f/{farmer.token}", timeout=30).status_code == 404


def test_with_reads_closed_only_farmers_links_open(closed_site: str, web_data: WebData) -> None:
    for path in ("/", "/v/phu-an", "/d/phu-an-agri-01"):
        response = httpx.get(f"{closed_site}{path}", timeout=30)
        assert response.status_code == 403 and "Cần đường dẫn riêng" in response.text, path
    binh = web_data.farmer("tran-thi-binh")
    page = Page(httpx.get(f"{closed_site}/f/{binh.token}", timeout=30).text)
    assert page.with_prefix("d-") == ["d-phu-an-agri-02", "d-phu-an-agri-03"]
    assert httpx.get(f"{closed_site}/api/v1/devices", timeout=30).status_code == 401  # the JSON API is unchanged


def test_english_is_a_switch_away_and_remembered(site: str) -> None:
    with httpx.Client(base_url=site, timeout=30) as browser:
        english = browser.get("/v/phu-an?lang=en")
        assert '<html lang="en">' in english.text and "Poor air — limit time outdoors" in english.text
        assert "lang=en" in english.headers["set-cookie"] and "Max-Age=31536000" in english.headers["set-cookie"]
        assert 'href="?lang=vi"' in english.text
        again = browser.get("/d/phu-an-agri-01")  # no query: the cookie remembers
        assert '<html lang="en">' in again.text and "Dry soil — water the field" in again.text
        assert "Soil moisture" in again.text and "Last 24 hours: lowest" in again.text
        back = browser.get("/v/phu-an?lang=vi")
        assert '<html lang="vi">' in back.text and browser.cookies["lang"] == "vi"


def test_pages_are_cached_sensibly_and_fetch_nothing_elsewhere(site: str) -> None:
    first = httpx.get(f"{site}/v/phu-an", timeout=30)
    headers = first.headers
    assert headers["cache-control"] == "public, max-age=60" and headers["vary"] == "Cookie, Accept-Encoding"
    csp = headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src" not in csp  # no script may run, nothing else is fetched
    assert "<script" not in first.text
    page = Page(first.text)
    assert all(u.startswith(("/", "?", "#")) or u == "data:," for u in page.urls), page.urls
    again = httpx.get(f"{site}/v/phu-an", headers={"If-None-Match": headers["etag"]}, timeout=30)
    assert again.status_code in (200, 304)  # 200 only when a reading or a minute passed in between
    if again.status_code == 304:
        assert again.content == b""
    (css_url,) = [u for u in page.urls if u.endswith(".css")]
    css = httpx.get(f"{site}{css_url}", timeout=30)
    assert css.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert css.headers["content-type"].startswith("text/css")
