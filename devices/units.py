"""SenML units (RFC 8428, RFC 8798 and later IANA entries) accepted per quantity, and how to convert them.

A value arrives as `v` in SenML unit `u`; canonical = v × scale + offset, in the catalogue's unit. A unit that is
not listed for a quantity cannot be converted and the reading is rejected. No unit at all means the canonical
unit: RFC 8428 §4.5.2 allows no unit when context (here, the quantity name) supplies it.

Sources: RFC 8428 Table 6 (primary units), RFC 8798 (secondary units with scale/offset, e.g. dBm → dBW offset
−30, ug/m3 → kg/m3 scale 1e-9), IANA SenML registry as mirrored by RIOT sys/include/senml.h (NTU, ppb, mg/l).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from devices.quantities import QUANTITIES


@dataclass(frozen=True, slots=True)
class Conversion:
    """canonical = value × scale + offset."""

    scale: float
    offset: float = 0.0

    def to_canonical(self, value: float) -> float:
        return value * self.scale + self.offset

    def from_canonical(self, value: float) -> float:
        return (value - self.offset) / self.scale


_ONE = Conversion(1.0)
_TEMPERATURE = {"Cel": _ONE, "K": Conversion(1.0, -273.15)}
_PERCENT = {"/": Conversion(100.0), "/100": _ONE, "%": _ONE}
"""RFC 8428 defines `%` as a ratio like `/`, but devices that send `%` for a percentage are the rule; for
quantities whose canonical unit is a percentage we read it as a percentage, and a true ratio must use `/`."""
_MASS_CONCENTRATION_UG_M3 = {"kg/m3": Conversion(1e9), "ug/m3": _ONE}
_CONDUCTIVITY_US_CM = {"S/m": Conversion(1e4), "uS/cm": _ONE, "mS/cm": Conversion(1e3)}
"""1 S/m = 10,000 µS/cm. `uS/cm` and `mS/cm` are not registered SenML units, but they are what EC probes print;
like `mg/kg` they are an application convention (RFC 8428 §12.1), accepted because the quantity is unambiguous."""

SENML_UNITS: Mapping[str, Mapping[str, Conversion]] = MappingProxyType(
    {
        "ph": {"pH": _ONE},
        "turbidity": {"NTU": _ONE},
        "do": {"kg/m3": Conversion(1e3), "mg/l": _ONE, "g/l": Conversion(1e3), "ug/l": Conversion(1e-3)},
        "ec": _CONDUCTIVITY_US_CM,
        "water_level": {"m": Conversion(100.0), "cm": _ONE, "mm": Conversion(0.1)},
        "water_temp": _TEMPERATURE,
        "salinity": {"PSU": _ONE},  # no registered unit; application convention like mg/kg
        "pm25": _MASS_CONCENTRATION_UG_M3,
        "pm10": _MASS_CONCENTRATION_UG_M3,
        "co2": {"/": Conversion(1e6), "ppm": _ONE, "ppb": Conversion(1e-3)},
        "air_temp": _TEMPERATURE,
        "humidity": {"%RH": _ONE, **_PERCENT},
        "pressure": {"Pa": Conversion(0.01), "hPa": _ONE},
        "soil_moisture": _PERCENT,
        "soil_temp": _TEMPERATURE,
        "soil_ec": _CONDUCTIVITY_US_CM,
        "soil_ph": {"pH": _ONE},
        "soil_n": {"mg/kg": _ONE},  # no registered unit; an application convention (RFC 8428 §12.1)
        "soil_p": {"mg/kg": _ONE},
        "soil_k": {"mg/kg": _ONE},
        "rain": {"m": Conversion(1000.0), "mm": _ONE},
        "lux": {"lx": _ONE},
        "leaf_wetness": _PERCENT,
        "bat": {"V": _ONE, "mV": Conversion(1e-3)},
        "rssi": {"dBW": Conversion(1.0, 30.0), "dBm": _ONE},
    }
)

PREFERRED_SENML_UNIT: Mapping[str, str | None] = MappingProxyType(
    {
        **{name: next(iter(units), None) for name, units in SENML_UNITS.items()},
        "humidity": "%RH",
        "soil_moisture": "/",
        "leaf_wetness": "/",
        "salinity": None,
        "soil_n": None,
        "soil_p": None,
        "soil_k": None,
    }
)
"""The primary (SenML version 10) unit a strict device uses per quantity; None when none is registered."""

if set(SENML_UNITS) != set(QUANTITIES):  # pragma: no cover - guards future catalogue edits
    raise RuntimeError("every quantity needs a SENML_UNITS entry")


def conversion(quantity: str, unit: str | None) -> Conversion | None:
    """How to bring `unit` to the canonical unit of `quantity`; None when it cannot be converted."""
    if unit is None:
        return _ONE
    return SENML_UNITS[quantity].get(unit)


def canonical_round(value: float) -> float:
    """Drop binary noise from a scaled value (2.53e-8 kg/m3 × 1e9 → 25.3, not 25.299999999999997)."""
    return float(f"{value:.12g}")
