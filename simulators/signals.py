"""What each kind of station measures, as seeded NumPy functions of time: same seed, same data.

Water (a stream or canal gauge): storms raise the level with a delay of hours and flush turbidity first;
conductivity drops with dilution; dissolved oxygen and pH follow photosynthesis (high in the afternoon) and
sag after storms wash organic matter in; naturally low pH (6–6.5) and DO (3–5 mg/L) as on the upper Saigon
River. Air: PM2.5 peaks at the morning and evening rush and in the dry season, rain washes it out, PM10 is
always at least PM2.5; CO2 builds up in the still night air; pressure has its twice-daily tide. Fields: soil
moisture jumps with rain or irrigation and dries out over days (loam: wilting 13.8 %, field capacity 32.1 %,
saturation 48.2 %), soil temperature lags the air, a tipping bucket counts rain, light follows sun and clouds.

Sensors add noise, drift slowly (fouling, ageing) and round as firmware does; clean values always lie inside
the catalogue's hard limits (faults are injected separately, in faults.py).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from devices.quantities import QUANTITIES
from devices.registry import DeviceKind
from simulators.climate import DAY_MS, HOUR_MS, local_hours, wet_season_weight
from simulators.events import DailyEvents
from simulators.weather import VillageWeather, diurnal

Int64s = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]
Readings = dict[str, Floats]

KIND_QUANTITIES: dict[DeviceKind, tuple[str, ...]] = {
    "water": ("ph", "turbidity", "do", "ec", "water_level", "water_temp"),
    "air": ("pm25", "pm10", "co2", "air_temp", "humidity", "pressure"),
    "agri": (
        "soil_moisture",
        "soil_temp",
        "soil_ec",
        "soil_ph",
        "soil_n",
        "soil_p",
        "soil_k",
        "rain",
        "lux",
        "leaf_wetness",
    ),
}

SENSOR_NOISE: dict[str, tuple[float, int]] = {
    # quantity: (noise standard deviation, decimals the firmware sends)
    "ph": (0.02, 2),
    "turbidity": (0.4, 1),
    "do": (0.05, 2),
    "ec": (2.0, 0),
    "water_level": (0.3, 1),
    "water_temp": (0.05, 1),
    "pm25": (1.5, 0),
    "pm10": (2.0, 0),
    "co2": (4.0, 0),
    "air_temp": (0.1, 1),
    "humidity": (0.8, 1),
    "pressure": (0.1, 1),
    "soil_moisture": (0.3, 1),
    "soil_temp": (0.1, 1),
    "soil_ec": (5.0, 0),
    "soil_ph": (0.03, 2),
    "soil_n": (2.0, 0),
    "soil_p": (1.0, 0),
    "soil_k": (2.0, 0),
    "rain": (0.0, 1),
    "lux": (0.0, 0),
    "leaf_wetness": (1.0, 0),
}

DRIFT_PER_30_DAYS: dict[str, float] = {
    # slow sensor drift (fouling of optical and membrane sensors, electrode ageing)
    "ph": -0.03,
    "do": -0.12,
    "ec": 3.0,
    "turbidity": 0.6,
    "soil_ec": 5.0,
    "soil_ph": -0.02,
}

_SATURATION_VWC = 46.0
_DAYS_30_MS = 30 * DAY_MS


def do_saturation(water_temp_c: Floats) -> Floats:
    """Oxygen solubility in fresh water at 1 atm (mg/L): 8.26 at 25 °C, 7.56 at 30 °C (EN 25814 table)."""
    t = water_temp_c
    return 14.652 - 0.41022 * t + 0.007991 * t**2 - 0.000077774 * t**3


def _irrigation(rng: np.random.Generator, day: int) -> list[tuple[int, int, float]]:
    """A farmer waters in the early morning, every few days while the dry season lasts."""
    dry = 1.0 - float(wet_season_weight(np.array([day * DAY_MS], dtype=np.int64))[0])
    if rng.random() >= 0.45 * dry:
        return []
    start_h = rng.uniform(5.5, 7.5)
    return [(int(start_h * HOUR_MS), HOUR_MS, float(rng.uniform(12.0, 20.0)))]


class SignalModel:
    """The true environment at one station and what its sensors report."""

    def __init__(
        self, kind: DeviceKind, weather: VillageWeather, *, seed: int, device_index: int, installed_ms: int
    ) -> None:
        self.kind = kind
        self.quantities = KIND_QUANTITIES[kind]
        self._weather = weather
        self._installed_ms = installed_ms
        site = np.random.default_rng([seed, 21, device_index])
        self._site = {name: float(site.uniform(low, high)) for name, (low, high) in _SITE_RANGES.items()}
        self._drift = {q: rate * float(site.uniform(0.5, 1.5)) for q, rate in DRIFT_PER_30_DAYS.items()}
        self._irrigation = DailyEvents(_irrigation, key=(seed, 22, device_index), lookback_days=10)

    def truth(self, ts_ms: Int64s, prev_ts_ms: Int64s) -> Readings:
        """The physical values at each time (rain: what fell since `prev_ts_ms`)."""
        return {"water": self._water, "air": self._air, "agri": self._agri}[self.kind](ts_ms, prev_ts_ms)

    def measure(self, ts_ms: Int64s, prev_ts_ms: Int64s, noise: Floats) -> Readings:
        """What the sensors report: truth + drift + noise, clipped to the sensor's range, rounded.

        `noise` holds standard normal draws, one row per quantity (in `quantities` order), one column per time.
        """
        readings = self.truth(ts_ms, prev_ts_ms)
        age = (ts_ms - self._installed_ms) / _DAYS_30_MS
        measured: Readings = {}
        for row, (quantity, values) in enumerate(readings.items()):
            sd, decimals = SENSOR_NOISE[quantity]
            noisy = values + self._drift.get(quantity, 0.0) * age + sd * noise[row]
            limits = QUANTITIES[quantity]
            measured[quantity] = np.round(np.clip(noisy, limits.hard_min, limits.hard_max), decimals)
        if "pm25" in measured:  # the sensor reports PM2.5 as part of PM10, never more
            measured["pm25"] = np.minimum(measured["pm25"], measured["pm10"])
        return measured

    def _water(self, ts: Int64s, _prev: Int64s) -> Readings:
        w, s = self._weather, self._site
        wet = wet_season_weight(ts)
        storm_fast = w.storms.delayed(ts, peak_ms=2 * HOUR_MS)
        storm_slow = w.storms.delayed(ts, peak_ms=30 * HOUR_MS)
        level = s["level_base_cm"] + 90.0 * wet + s["level_gain"] * (0.6 * storm_fast + 1.4 * storm_slow)
        turbidity = s["turbidity_base"] * (1 + 0.6 * wet) + 2.5 * storm_fast + 0.4 * storm_slow
        ec = s["ec_base"] * (1.25 - 0.45 * wet) / (1 + 0.012 * (storm_fast + storm_slow))
        water_temp = (w.daily_mean_temp(ts) - 0.5 + 0.9 * diurnal(ts, lag_h=2.5) - 0.3 * w.storm_cooling(ts)) + s[
            "water_temp_offset"
        ]
        organic = np.tanh(storm_slow / 40.0)
        photosynthesis = diurnal(ts, lag_h=0.5)
        do = do_saturation(water_temp) * (s["do_saturation_share"] + 0.12 * photosynthesis - 0.15 * organic)
        ph = s["ph_base"] + 0.18 * photosynthesis - 0.35 * organic
        return {
            "ph": ph,
            "turbidity": np.clip(turbidity, 0.5, 950.0),
            "do": np.clip(do, 0.3, 14.0),
            "ec": ec,
            "water_level": np.clip(level, 5.0, 590.0),
            "water_temp": water_temp,
        }

    def _air(self, ts: Int64s, _prev: Int64s) -> Readings:
        w, s = self._weather, self._site
        hours = local_hours(ts)
        rush = np.exp(-(((hours - 7.5) / 1.2) ** 2)) + 0.8 * np.exp(-(((hours - 18.0) / 1.5) ** 2))
        night = np.clip(-diurnal(ts), 0.0, None)  # still, shallow night air traps what is emitted
        dry = 1.0 - wet_season_weight(ts)
        washout = 1.0 / (1.0 + 0.08 * w.wetness(ts, tau_h=10.0))
        pm25 = s["pm_factor"] * (14.0 + 16.0 * dry) * (0.75 + 0.7 * rush + 0.35 * night) * washout
        co2 = s["co2_base"] + 40.0 * night + 15.0 * rush
        semi_diurnal_tide = 1.2 * np.cos(4 * np.pi * (hours - 10.0) / 24)
        pressure = 1011.0 - 3.0 * wet_season_weight(ts) + semi_diurnal_tide
        return {
            "pm25": pm25,
            "pm10": pm25 / s["pm_ratio"],
            "co2": co2,
            "air_temp": w.air_temp(ts) + s["air_temp_offset"],
            "humidity": w.humidity(ts),
            "pressure": pressure,
        }

    def _agri(self, ts: Int64s, prev: Int64s) -> Readings:
        w, s = self._weather, self._site
        wet = wet_season_weight(ts)
        base = s["vwc_dry"] + (s["vwc_wet"] - s["vwc_dry"]) * wet
        water_in = 0.5 * w.storms.decaying(ts, tau_ms=3 * DAY_MS) + 0.5 * self._irrigation.decaying(
            ts, tau_ms=2 * DAY_MS
        )
        moisture = _SATURATION_VWC - (_SATURATION_VWC - base) * np.exp(-water_in / (_SATURATION_VWC - base))
        soil_temp = w.daily_mean_temp(ts) + 1.5 + 2.5 * diurnal(ts, lag_h=2.5) - 0.5 * w.storm_cooling(ts)
        season_use = 1.0 - 0.25 * wet  # nutrients are taken up and leached through the rainy season
        leaf = np.clip(np.tanh(w.wetness(ts, tau_h=3.0) / 2.0) + np.clip((w.humidity(ts) - 90.0) / 10.0, 0, 1), 0, 1)
        return {
            "soil_moisture": moisture,
            "soil_temp": soil_temp,
            "soil_ec": 80.0 + 12.0 * moisture,
            "soil_ph": np.full(len(ts), s["soil_ph"]),
            "soil_n": s["soil_n"] * season_use,
            "soil_p": s["soil_p"] * season_use,
            "soil_k": s["soil_k"] * season_use,
            "rain": w.storms.total_between(prev, ts),
            "lux": np.minimum(w.lux(ts), QUANTITIES["lux"].hard_max),  # the TSL2591 saturates at 88,000 lx
            "leaf_wetness": 100.0 * leaf,
        }


_SITE_RANGES: dict[str, tuple[float, float]] = {
    # what differs between two stations of one kind in one commune
    "level_base_cm": (70.0, 200.0),
    "level_gain": (0.4, 1.1),
    "turbidity_base": (6.0, 18.0),
    "ec_base": (120.0, 260.0),
    "ph_base": (6.1, 6.8),
    "do_saturation_share": (0.55, 0.7),
    "water_temp_offset": (-0.8, 0.2),
    "pm_factor": (0.8, 1.3),
    "pm_ratio": (0.55, 0.72),
    "co2_base": (412.0, 432.0),
    "air_temp_offset": (-0.5, 0.5),
    "vwc_dry": (13.0, 17.0),
    "vwc_wet": (22.0, 28.0),
    "soil_ph": (5.0, 6.2),
    "soil_n": (60.0, 140.0),
    "soil_p": (20.0, 55.0),
    "soil_k": (90.0, 200.0),
}


def quantities_for(kind: DeviceKind) -> tuple[str, ...]:
    """The quantities a board of `kind` reports, in a stable order."""
    return KIND_QUANTITIES[kind]
