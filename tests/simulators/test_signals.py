"""Signals a hydrologist or agronomist would find plausible for Bình Dương, and reproducible from the seed."""

from __future__ import annotations

import numpy as np
import pytest

from devices.quantities import QUANTITIES
from simulators.climate import DAILY_MEAN_C, WET_MONTHS, months
from simulators.signals import KIND_QUANTITIES, SignalModel
from simulators.weather import VillageWeather

YEAR_START_MS = int(np.datetime64("2025-01-01T00:00:00", "ms").astype(np.int64)) - 7 * 3_600_000
HOURS = YEAR_START_MS + np.arange(365 * 24, dtype=np.int64) * 3_600_000


def weather(seed: int = 1, index: int = 0) -> VillageWeather:
    return VillageWeather(seed=seed, index=index, lat=11.1, lon=106.54)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_monthly_mean_air_temperature_is_within_2_degrees_of_the_normals(seed: int) -> None:
    model = SignalModel("air", weather(seed), seed=seed, device_index=0, installed_ms=YEAR_START_MS)
    air_temp = model.measure(HOURS, HOURS - 3_600_000, np.random.default_rng(seed).standard_normal((6, len(HOURS))))[
        "air_temp"
    ]
    month = months(HOURS)
    means = np.array([air_temp[month == m].mean() for m in range(1, 13)])
    assert np.abs(means - np.array(DAILY_MEAN_C)).max() <= 2.0, means.round(1)
    assert means[3] > means[0] + 2  # April, the hottest month, is clearly warmer than January


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_rain_falls_mostly_in_the_rainy_season(seed: int) -> None:
    rain = weather(seed).storms.total_between(HOURS, HOURS + 3_600_000)
    month = months(HOURS)
    total = rain.sum()
    wet = rain[np.isin(month, WET_MONTHS)].sum()
    assert 1200 < total < 2800  # normals: 1,931 mm; Bình Phước 2,045–2,325 mm
    assert wet / total >= 0.8  # normals: 93 % May–November
    assert rain[np.isin(month, (1, 2, 3))].sum() < 0.05 * total


def test_every_clean_value_lies_within_the_hard_limits_for_a_whole_year() -> None:
    for kind, quantities in KIND_QUANTITIES.items():
        for device in range(3):
            model = SignalModel(kind, weather(device, device), seed=device, device_index=device, installed_ms=0)
            noise = np.random.default_rng(device).standard_normal((len(quantities), len(HOURS)))
            values = model.measure(HOURS, HOURS - 3_600_000, noise)
            assert tuple(values) == quantities
            for quantity, series in values.items():
                limits = QUANTITIES[quantity]
                assert np.isfinite(series).all()
                assert limits.hard_min <= series.min() and series.max() <= limits.hard_max, (kind, quantity)
            if kind == "air":
                assert (values["pm25"] <= values["pm10"]).all()


def test_storms_raise_the_water_level_hours_later_and_wet_the_soil() -> None:
    w = weather(4)
    july = YEAR_START_MS + 181 * 86_400_000 + np.arange(31 * 24 * 12, dtype=np.int64) * 300_000
    water = SignalModel("water", w, seed=4, device_index=0, installed_ms=YEAR_START_MS).truth(july, july - 300_000)
    agri = SignalModel("agri", w, seed=4, device_index=1, installed_ms=YEAR_START_MS).truth(july, july - 300_000)
    rain = w.storms.total_between(july - 300_000, july)
    lags = range(48)  # 5-minute steps: 0–4 h
    level = water["water_level"] - water["water_level"].mean()
    correlation = [np.corrcoef(rain[: len(rain) - lag], level[lag:])[0, 1] for lag in lags]
    assert int(np.argmax(correlation)) >= 6  # the level peaks at least half an hour after the rain
    wet = w.wetness(july, tau_h=6) > 5
    assert agri["soil_moisture"][wet].mean() > agri["soil_moisture"][~wet].mean() + 2


def test_pm25_peaks_at_rush_hour_and_in_the_dry_season() -> None:
    model = SignalModel("air", weather(5), seed=5, device_index=0, installed_ms=YEAR_START_MS)
    pm25 = model.truth(HOURS, HOURS - 3_600_000)["pm25"]
    local_hour = ((HOURS + 7 * 3_600_000) // 3_600_000) % 24
    assert pm25[local_hour == 8].mean() > 1.3 * pm25[local_hour == 13].mean()
    month = months(HOURS)
    assert pm25[np.isin(month, (1, 2, 3))].mean() > 1.3 * pm25[np.isin(month, (7, 8, 9))].mean()


def test_same_seed_same_data_other_seed_other_data() -> None:
    def series(seed: int) -> dict[str, np.ndarray]:
        model = SignalModel("water", weather(seed), seed=seed, device_index=2, installed_ms=YEAR_START_MS)
        return model.measure(
            HOURS[:500], HOURS[:500] - 3_600_000, np.random.default_rng(seed).standard_normal((6, 500))
        )

    first, again, other = series(7), series(7), series(8)
    assert all(np.array_equal(first[q], again[q]) for q in first)
    assert not np.array_equal(first["water_level"], other["water_level"])
