"""Advice from sourced thresholds, and colours that every reader can read (WCAG AA, computed)."""

from __future__ import annotations

import re

import pytest

from api.web import advice, palette
from api.web.render import WebAssets
from devices.standards import VN_AQI_CATEGORIES


@pytest.mark.parametrize(
    ("vwc", "level", "key"),
    [
        (10.0, "bad", "soil.very_dry"),
        (13.79, "bad", "soil.very_dry"),
        (13.8, "warn", "soil.dry"),
        (22.9, "warn", "soil.dry"),
        (23.0, "ok", "soil.moist"),
        (32.1, "ok", "soil.moist"),
        (40.0, "ok", "soil.wet"),
        (49.0, "warn", "soil.saturated"),
    ],
)
def test_soil_advice_follows_the_loam_water_points(vwc: float, level: str, key: str) -> None:
    verdict = advice.soil_moisture(vwc)
    assert (verdict.level, verdict.key) == (level, key)


def test_the_irrigation_point_is_half_the_available_water_of_loam() -> None:
    # Saxton & Rawls loam: wilting 13.8 %, field capacity 32.1 %; FAO-56 p = 0.5.
    assert pytest.approx(32.1 - 0.5 * (32.1 - 13.8)) == advice.IRRIGATE_BELOW_VWC


def test_air_advice_follows_the_vn_aqi_bands() -> None:
    for band, category in enumerate(VN_AQI_CATEGORIES):
        for value in (category.low, category.high):
            verdict = advice.air(value)
            assert verdict.key == f"air.{band}"
            assert advice.air_category(value) is category
    assert advice.air(121).level == "warn"
    assert advice.air(None) is advice.NO_DATA
    assert len(advice.AIR_ADVICE_NORMAL_VI) == len(advice.AIR_ADVICE_SENSITIVE_VI) == len(VN_AQI_CATEGORIES)


@pytest.mark.parametrize(
    ("latest", "level", "key", "reasons"),
    [
        ({"ph": 7.0, "turbidity": 1.0, "do": 6.5}, "ok", "water.clean", ()),
        ({"ph": 7.0, "turbidity": 15.0, "do": 6.5}, "warn", "water.treat", (("turbidity", 15.0),)),
        ({"ph": 7.0, "turbidity": 1.0, "do": 3.3}, "bad", "water.poor", (("do", 3.3),)),
        ({"ph": 5.5, "turbidity": 1.0}, "bad", "water.poor", (("ph", 5.5),)),
        ({"do": 6.0}, "warn", "water.partial", ()),
        ({}, "none", "nodata", ()),
    ],
)
def test_water_status_uses_qcvn_01_1_and_qcvn_08_limits(
    latest: dict[str, float], level: str, key: str, reasons: tuple[tuple[str, float], ...]
) -> None:
    verdict = advice.water(latest)
    assert (verdict.level, verdict.key, verdict.reasons) == (level, key, reasons)


def test_battery_and_signal_use_the_catalogue_soft_limits() -> None:
    assert advice.battery_low(3.21) and not advice.battery_low(3.3) and not advice.battery_low(None)
    assert advice.signal_weak(-85) and not advice.signal_weak(-63)


def test_every_text_colour_pair_meets_wcag_aa() -> None:
    for fg, bg in palette.TEXT_PAIRS:
        ratio = palette.contrast(palette.COLOURS[fg], palette.COLOURS[bg])
        assert ratio >= 4.5, f"{fg} on {bg}: {ratio:.2f}"
    for fg, bg in palette.GRAPHIC_PAIRS:
        ratio = palette.contrast(palette.COLOURS[fg], palette.COLOURS[bg])
        assert ratio >= 3.0, f"{fg} on {bg}: {ratio:.2f}"


def test_every_vn_aqi_colour_carries_readable_text() -> None:
    ratios = [palette.contrast(bg, fg) for bg, fg in palette.AQI_COLOURS]
    assert all(r >= 4.5 for r in ratios), ratios
    assert [bg for bg, _ in palette.AQI_COLOURS] == [c.hex for c in VN_AQI_CATEGORIES]
    # White on the regulation's red is 4.0:1, below AA: the red badge must carry black text.
    assert palette.AQI_COLOURS[3][1] == palette.BLACK


def test_contrast_is_computed_as_wcag_defines_it() -> None:
    assert palette.contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert palette.contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)


def test_the_stylesheet_uses_only_the_palette_and_nothing_under_16px() -> None:
    css = WebAssets().css.decode()
    allowed = {c.lower() for c in palette.COLOURS.values()} | {c for pair in palette.AQI_COLOURS for c in pair}
    assert set(re.findall(r"#[0-9a-fA-F]{6}\b", css)) <= allowed
    sizes = [float(v) for v in re.findall(r"font-size:([0-9.]+)rem", css)] + [
        float(v) for v in re.findall(r"font:([0-9.]+)rem", css)
    ]
    assert sizes and min(sizes) >= 1.0
    assert "px" not in re.sub(r"\d+px", "", css) and not re.search(r"font[^;]*\d+px", css)
    assert "url(" not in css and "@import" not in css  # nothing fetched from elsewhere
