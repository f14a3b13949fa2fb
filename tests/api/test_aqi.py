"""VN_AQI (QĐ 1459/QĐ-TCMT) reproduces the decision's worked examples; the EPA scale its table's test points."""

from __future__ import annotations

import pytest

from api.aqi import epa_aqi, epa_nowcast, round_half_up, vn_aqi, vn_nowcast, vn_sub_index
from devices.standards import VN_AQI_BREAKPOINTS, VN_AQI_CATEGORIES, VN_AQI_INDEX

# QĐ 1459 worked example 1: PM2.5 hourly means 09:00 → 20:00; c1 is the current hour (20:00).
EXAMPLE_PM25_09_TO_20 = [26.9, 24.7, 20.5, 23.5, 19.5, 16.5, 19.0, 16.5, 20.3, 22.4, 19.6, 20.6]


def test_nowcast_reproduces_example_1() -> None:
    nowcast = vn_nowcast(list(reversed(EXAMPLE_PM25_09_TO_20)))
    assert nowcast is not None
    assert nowcast == pytest.approx(20.3, abs=0.05)


def test_hourly_aqi_reproduces_example_2() -> None:
    index = vn_aqi({"o3_1h": 136.1, "no2": 118.7, "pm25": 20.3})
    assert index is not None
    assert abs(index.value - 60) <= 1
    assert index.dominant == "no2"
    expected = {"o3_1h": 43, "no2": 60, "pm25": 41}
    for pollutant, value in expected.items():
        assert abs(round_half_up(index.sub_indices[pollutant]) - value) <= 1


def test_daily_aqi_reproduces_example_3() -> None:
    index = vn_aqi({"o3_8h": 89.3, "o3_1h": 114.6, "no2": 130.8, "pm25": 55.7})
    assert index is not None
    assert abs(index.value - 110) <= 1
    assert index.dominant == "pm25"
    assert index.category.label_vi == "Kém"
    expected = {"o3_8h": 45, "o3_1h": 36, "no2": 65, "pm25": 110}
    for pollutant, value in expected.items():
        assert abs(round_half_up(index.sub_indices[pollutant]) - value) <= 1


def test_nowcast_needs_two_of_the_three_latest_hours() -> None:
    assert vn_nowcast([None, None, 30.0, 30.0, 30.0]) is None
    assert vn_nowcast([30.0, None, 30.0]) == pytest.approx(30.0)
    assert epa_nowcast([None, 20.0, None, 10.0]) is None


def test_nowcast_with_a_steep_change_uses_half_weights_unnormalised() -> None:
    hourly = [100.0, 10.0]  # w* = 0.1 → w = 1/2 → Σ (1/2)^i·ci
    assert vn_nowcast(hourly) == pytest.approx(0.5 * 100 + 0.25 * 10)
    assert epa_nowcast(hourly) == pytest.approx((100 + 0.5 * 10) / 1.5)


@pytest.mark.parametrize("pollutant", sorted(VN_AQI_BREAKPOINTS))
def test_sub_index_hits_every_breakpoint(pollutant: str) -> None:
    for concentration, index in zip(VN_AQI_BREAKPOINTS[pollutant], VN_AQI_INDEX, strict=False):
        assert vn_sub_index(pollutant, concentration).value == pytest.approx(index)


def test_beyond_the_scale_is_capped_and_flagged() -> None:
    index = vn_aqi({"pm25": 800.0})
    assert index is not None
    assert (index.value, index.above_scale, index.category.label_vi) == (500, True, "Nguy hại")


def test_categories_are_contiguous_with_the_decision_colours() -> None:
    assert [c.low for c in VN_AQI_CATEGORIES[1:]] == [c.high + 1 for c in VN_AQI_CATEGORIES[:-1]]
    assert VN_AQI_CATEGORIES[2].hex == "#ff7e00"


@pytest.mark.parametrize(("pm25", "aqi"), [(9.0, 50), (9.1, 51), (35.4, 100), (55.5, 151), (9.09, 50)])
def test_epa_2024_breakpoints(pm25: float, aqi: int) -> None:
    index = epa_aqi({"pm25": pm25})
    assert index is not None
    assert index.value == aqi


def test_the_two_scales_differ_for_the_same_air() -> None:
    vn, epa = vn_aqi({"pm25": 35.4}), epa_aqi({"pm25": 35.4})
    assert vn is not None and epa is not None
    assert (vn.value, epa.value) == (71, 100)
