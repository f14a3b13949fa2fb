"""Every page, HTML and stylesheet together, travels in at most 30 KB (gzip), and is built quickly."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

import httpx
import pytest

from tests.web.conftest import WebData
from tests.web.html import Page

BUDGET_BYTES = 30 * 1024
PHONE = {"Accept-Encoding": "gzip, deflate", "User-Agent": "Mozilla/5.0 (Linux; Android 10; K) Chrome/130 Mobile"}


def _pages(web_data: WebData) -> list[str]:
    binh = web_data.farmer("tran-thi-binh").token
    devices = [d.id for d in (s.device for s in web_data.sent)]
    return [
        "/",
        "/v/phu-an",
        "/v/an-tay",
        *(f"/d/{d}" for d in dict.fromkeys(devices)),
        f"/f/{binh}",
        f"/f/{binh}/d/phu-an-agri-03",
        "/f/no-such-link-0000000000",
        "/v/phu-an?lang=en",
    ]


def _transferred(client: httpx.Client, path: str) -> tuple[int, httpx.Response]:
    """Bytes on the wire for the body (compressed as sent) plus the header block."""
    with client.stream("GET", path) as response:
        response.read()
        head = sum(len(k) + len(v) + 4 for k, v in response.headers.raw) + 17
        return response.num_bytes_downloaded + head, response


def test_each_page_with_its_stylesheet_is_under_30_kb(site: str, web_data: WebData, artifacts: Path) -> None:
    sizes: dict[str, dict[str, float]] = {}
    with httpx.Client(base_url=site, headers=PHONE, timeout=30) as client:
        for path in _pages(web_data):
            html_bytes, response = _transferred(client, path)
            assert response.status_code in (200, 404), path
            stylesheets = [u for u in Page(response.text).urls if u.endswith(".css")]
            css_bytes = sum(_transferred(client, u)[0] for u in stylesheets)
            timings = []
            for _ in range(5):
                again = client.get(path)
                timings.append(float(again.headers["server-timing"].split("dur=")[1]))
            sizes[path.replace(web_data.farmer("tran-thi-binh").token, "{token}")] = {
                "html_gzip_bytes": html_bytes,
                "css_gzip_bytes": css_bytes,
                "total_bytes": html_bytes + css_bytes,
                "html_raw_bytes": len(response.content),
                "server_ms_median": statistics.median(timings),
            }
    (artifacts / "page-weight.json").write_text(json.dumps(sizes, indent=2, ensure_ascii=False), encoding="utf-8")
    heavy = {p: s["total_bytes"] for p, s in sizes.items() if s["total_bytes"] > BUDGET_BYTES}
    assert not heavy, f"over {BUDGET_BYTES} bytes: {heavy}"
    assert all(s["html_gzip_bytes"] < s["html_raw_bytes"] for s in sizes.values() if s["html_raw_bytes"] > 1024)
    slow = {p: s["server_ms_median"] for p, s in sizes.items() if s["server_ms_median"] > 1000}
    assert not slow, f"pages built in over a second: {slow}"


@pytest.mark.parametrize("path", ["/v/phu-an", "/d/phu-an-air-01"])
def test_a_revisit_costs_a_few_hundred_bytes(site: str, path: str) -> None:
    with httpx.Client(base_url=site, headers=PHONE, timeout=30) as client:
        first = client.get(path)
        again = client.get(path, headers={"If-None-Match": first.headers["etag"]})
        # A new reading or a new minute ("5 phút trước") changes the page; otherwise the phone keeps its copy.
        if again.status_code == 304:
            assert again.num_bytes_downloaded == 0
        else:
            assert again.status_code == 200 and again.headers["etag"] != first.headers["etag"]
