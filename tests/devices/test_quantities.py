"""The catalogue matches DESIGN.md §4 and its limits are coherent and sourced."""

from __future__ import annotations

import math
import re

import pytest

from devices.quantities import CATALOGUE, DOMAIN_OF, DOMAINS, HARD_MAX, HARD_MIN, QUANTITIES, SOURCES, Domain

DESIGN_SECTION_4 = {
    "water": {"ph": "pH", "turbidity": "NTU", "do": "mg/L", "ec": "µS/cm", "water_level": "cm",
              "water_temp": "°C", "salinity": "PSU"},
    "air": {"pm25": "µg/m³", "pm10": "µg/m³", "co2": "ppm", "air_temp": "°C", "humidity": "%RH",
            "pressure": "hPa"},
    "agri": {"soil_moisture": "% VWC", "soil_temp": "°C", "soil_ec": "µS/cm", "soil_ph": "pH", "soil_n": "mg/kg",
             "soil_p": "mg/kg", "soil_k": "mg/kg", "rain": "mm", "lux": "lx", "leaf_wetness": "%"},
    "device": {"bat": "V", "rssi": "dBm"},
}  # fmt: skip


def test_catalogue_is_exactly_the_design_table() -> None:
    actual = {d.value: {q.name: q.unit for q in CATALOGUE if q.domain is d} for d in Domain}
    assert actual == DESIGN_SECTION_4


@pytest.mark.parametrize("quantity", CATALOGUE, ids=lambda q: q.name)
def test_limits_are_ordered_and_cited(quantity) -> None:
    assert quantity.hard_min < quantity.hard_max
    assert quantity.soft_min < quantity.soft_max
    # soft limits flag inside the physically possible range; never wider than it
    assert quantity.soft_min == -math.inf or quantity.soft_min >= quantity.hard_min
    assert quantity.soft_max == math.inf or quantity.soft_max <= quantity.hard_max
    tags = re.findall(r"\[([A-Z0-9]+)\]", quantity.source)
    assert quantity.source, "every limit needs a source"
    assert all(tag in SOURCES for tag in tags), f"unknown source tag in {quantity.source!r}"
    assert quantity.label_vi and quantity.label_en


def test_naturally_low_river_ph_and_do_are_not_hard_rejected() -> None:
    # Saigon River upstream: annual-mean pH 5.6–6.4, DO 2.1–5.0 mg/L are real (limits.md §3.1).
    assert QUANTITIES["ph"].hard_min < 5.6 and QUANTITIES["do"].hard_min < 2.1


def test_lookup_tables_follow_catalogue_order() -> None:
    for index, quantity in enumerate(CATALOGUE):
        assert HARD_MIN[index] == quantity.hard_min
        assert HARD_MAX[index] == quantity.hard_max
        assert DOMAINS[DOMAIN_OF[index]] is quantity.domain
    assert not HARD_MIN.flags.writeable
