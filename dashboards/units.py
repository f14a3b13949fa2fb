"""Grafana unit ids for the catalogue's canonical units, so every panel shows what the value means.

Ids are those of Grafana's value formats (packages/grafana-data/src/valueFormats/categories.ts); where Grafana
has none (NTU, mg/L, µS/cm, cm, PSU, pH) a custom `suffix:`/`prefix:` unit shows the catalogue's symbol.
"""

from __future__ import annotations

from types import MappingProxyType

from devices.quantities import CATALOGUE

MICROGRAM_PER_M3 = "con\u03bcgm3"
"""Grafana spells this id with the Greek small letter mu (U+03BC), not the micro sign."""

_BY_UNIT = MappingProxyType(
    {
        "pH": "prefix:pH ",
        "NTU": "suffix:NTU",
        "mg/L": "suffix:mg/L",
        "µS/cm": "suffix:µS/cm",
        "cm": "suffix:cm",
        "°C": "celsius",
        "PSU": "suffix:PSU",
        "µg/m³": MICROGRAM_PER_M3,
        "ppm": "ppm",
        "%RH": "suffix:%RH",
        "hPa": "pressurehpa",
        "% VWC": "suffix:% VWC",
        "mg/kg": "suffix:mg/kg",
        "mm": "lengthmm",
        "lx": "lux",
        "%": "percent",
        "V": "volt",
        "dBm": "dBm",
    }
)

GRAFANA_UNIT = MappingProxyType({q.name: _BY_UNIT[q.unit] for q in CATALOGUE})
"""Quantity name → Grafana unit id; building this fails at import if the catalogue gains an unmapped unit."""

COUNT = "short"
INDEX = "none"
"""Dimensionless values: counts, and indices such as VN_AQI."""
BYTES = "decbytes"
MILLISECONDS = "ms"
PER_SECOND = "suffix:/s"
