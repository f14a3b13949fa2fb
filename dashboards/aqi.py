"""VN_AQI (Quyết định 1459/QĐ-TCMT) as an InfluxQL expression, so InfluxDB computes the index Grafana colours.

InfluxQL has no CASE, but a continuous piecewise-linear function is a sum of ramps, and a ramp is arithmetic:
relu(x) = (x + abs(x)) / 2. With slopes s_i of the bands of Bảng 2,

    AQI(C) = Σ_i k_i · relu(C − BP_i),   k_1 = s_1,  k_i = s_i − s_(i−1),  k_last = −s_(last band)

which is linear inside each band, continuous at every breakpoint and flat (capped at 500) past the last one, as
the decision asks. The daily index (AQI^d) of PM is this function of the 24-hour mean [QĐ 1459, Công thức 1];
the index of a station is the larger of its PM2.5 and PM10 indices: max(a, b) = (a + b + abs(a − b)) / 2.
"""

from __future__ import annotations

from devices.standards import VN_AQI_BREAKPOINTS, VN_AQI_INDEX


def _coefficients(quantity: str) -> list[tuple[float, float]]:
    """(breakpoint, k) for every ramp with a non-zero coefficient."""
    breakpoints = VN_AQI_BREAKPOINTS[quantity]
    slopes = [
        (VN_AQI_INDEX[i + 1] - VN_AQI_INDEX[i]) / (breakpoints[i + 1] - breakpoints[i])
        for i in range(len(breakpoints) - 1)
    ]
    ramps = [(breakpoints[0], slopes[0])]
    ramps += [(breakpoints[i], slopes[i] - slopes[i - 1]) for i in range(1, len(slopes))]
    ramps.append((breakpoints[-1], -slopes[-1]))
    return [(bp, k) for bp, k in ramps if abs(k) > 1e-12]


def aqi_expression(quantity: str, concentration: str) -> str:
    """The sub-index of `quantity` (pm25 or pm10) for an InfluxQL expression giving its concentration in µg/m³."""
    text = ""
    for breakpoint, k in _coefficients(quantity):
        shifted = f"{concentration} - {breakpoint:g}"
        sign = "-" if k < 0 else "+"
        text += f" {sign} {abs(k)!r} * ({shifted} + abs({shifted})) / 2"
    return "(0" + text + ")"


def max_expression(a: str, b: str) -> str:
    """max(a, b) in InfluxQL arithmetic."""
    return f"(({a}) + ({b}) + abs(({a}) - ({b}))) / 2"


def daily_aqi_expression(pm25: str, pm10: str) -> str:
    """VN_AQI of a place from its 24-hour mean PM2.5 and PM10 expressions: the larger sub-index."""
    return max_expression(aqi_expression("pm25", pm25), aqi_expression("pm10", pm10))


def evaluate(quantity: str, concentration: float) -> float:
    """The same piecewise-linear sub-index in Python, for tests and the `check` report."""
    return sum(k * max(concentration - bp, 0.0) for bp, k in _coefficients(quantity))
