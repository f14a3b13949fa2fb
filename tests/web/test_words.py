"""Numbers, times and words as people in Vietnam read them; both languages say everything."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from api.web import fmt
from api.web.i18n import STRINGS, choose
from api.web.sparkline import HEIGHT, WIDTH, sparkline

VN = ZoneInfo("Asia/Ho_Chi_Minh")


@pytest.mark.parametrize(
    ("value", "decimals", "vi", "en"),
    [
        (1008.24, 1, "1.008,2", "1,008.2"),
        (6.849, 1, "6,8", "6.8"),
        (20000, 0, "20.000", "20,000"),
        (-67, 0, "\u221267", "\u221267"),
        (-0.04, 1, "0,0", "0.0"),
        (3.205, 2, "3,21", "3.21"),
    ],
)
def test_numbers_use_the_decimal_comma_in_vietnamese_and_the_point_in_english(
    value: float, decimals: int, vi: str, en: str
) -> None:
    assert fmt.number(value, "vi", decimals=decimals) == vi
    assert fmt.number(value, "en", decimals=decimals) == en


def test_times_are_local_to_binh_duong_and_day_first() -> None:
    # 2026-11-30 23:30 UTC is 06:30 on 1 December in Bình Dương (UTC+7, no daylight saving).
    ts_ms = int(datetime(2026, 11, 30, 23, 30, tzinfo=ZoneInfo("UTC")).timestamp() * 1000)
    assert fmt.clock(ts_ms, VN) == "06:30 01/12"
    assert fmt.day_month(ts_ms, VN) == "01/12/2026"


@pytest.mark.parametrize(
    ("minutes", "vi", "en"),
    [
        (0, "vừa xong", "just now"),
        (5, "5 phút trước", "5 min ago"),
        (125, "2 giờ trước", "2 h ago"),
        (4 * 1440, "4 ngày trước", "4 days ago"),
    ],
)
def test_ago_speaks_like_a_person(minutes: int, vi: str, en: str) -> None:
    now = 1_764_489_600_000
    assert fmt.ago(now - minutes * 60_000, now, "vi") == vi
    assert fmt.ago(now - minutes * 60_000, now, "en") == en


def test_both_languages_have_every_string_with_the_same_placeholders() -> None:
    assert set(STRINGS["vi"]) == set(STRINGS["en"])
    for key, vi in STRINGS["vi"].items():
        names = {part.split("}")[0] for part in vi.split("{")[1:]}
        assert names == {part.split("}")[0] for part in STRINGS["en"][key].split("{")[1:]}, key


def test_vietnamese_strings_carry_their_diacritics() -> None:
    assert STRINGS["vi"]["soil.dry.advice"] == "Đất khô — nên tưới"
    assert STRINGS["vi"]["air.2.advice"] == "Không khí kém — hạn chế ra ngoài"


@pytest.mark.parametrize(
    ("query", "cookie", "lang", "remember"),
    [
        (None, None, "vi", False),
        ("en", None, "en", True),
        (None, "en", "en", False),
        ("en", "en", "en", False),
        ("vi", "en", "vi", True),
        ("fr", None, "vi", False),
        (None, "<script>", "vi", False),
    ],
)
def test_the_language_is_asked_for_remembered_or_vietnamese(
    query: str | None, cookie: str | None, lang: str, remember: bool
) -> None:
    assert choose(query, cookie) == (lang, remember)


def test_a_sparkline_scales_into_its_box_and_leaves_gaps() -> None:
    start = 0
    points = [(0, 10.0), (1000, 20.0), (2000, None), (3000, 15.0), (4000, 12.0)]
    line = sparkline(points, start_ms=start, stop_ms=4000)
    assert (line.low, line.high, line.total) == (10.0, 20.0, 57.0)
    assert line.path.count("M") == 2  # the missing bucket breaks the line
    coordinates = [
        tuple(map(int, part.replace("h0", "").split()))
        for part in line.path.replace("M", "|").replace("L", "|").split("|")
        if part
    ]
    assert all(0 <= x <= WIDTH and 0 <= y <= HEIGHT for x, y in coordinates)
    assert coordinates[0] == (0, HEIGHT - 3) and coordinates[1] == (WIDTH // 4, 3)  # lowest at the bottom


def test_a_flat_sparkline_runs_through_the_middle() -> None:
    assert sparkline([(0, 4.0), (10, 4.0)], start_ms=0, stop_ms=10).path == f"M0 {HEIGHT // 2}h0L{WIDTH} {HEIGHT // 2}"


def test_a_sparkline_of_nothing_is_empty() -> None:
    assert sparkline([(0, None)], start_ms=0, stop_ms=1).path == ""
