"""A 24-hour line as a few hundred bytes of inline SVG: no script, no image request, gaps left as gaps."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

WIDTH = 288
HEIGHT = 48
PAD = 3


@dataclass(frozen=True, slots=True)
class Sparkline:
    """The SVG path of a series, its lowest and highest values and their sum (None when nothing was measured)."""

    path: str
    low: float | None
    high: float | None
    total: float | None


def sparkline(points: Sequence[tuple[int, float | None]], *, start_ms: int, stop_ms: int) -> Sparkline:
    """Scale `(ts_ms, value)` points into a WIDTH×HEIGHT box; a missing value breaks the line."""
    present = [(t, v) for t, v in points if v is not None and math.isfinite(v)]
    if not present:
        return Sparkline("", None, None, None)
    low, high = min(v for _, v in present), max(v for _, v in present)
    span_v = high - low
    span_t = max(stop_ms - start_ms, 1)
    commands: list[str] = []
    pen_down = False
    for t, v in points:
        if v is None or not math.isfinite(v):
            pen_down = False
            continue
        x = round((t - start_ms) / span_t * WIDTH)
        y = round(HEIGHT - PAD - (v - low) / span_v * (HEIGHT - 2 * PAD)) if span_v else HEIGHT // 2
        commands.append(f"L{x} {y}" if pen_down else f"M{x} {y}h0")  # h0: a lone point still shows as a dot
        pen_down = True
    return Sparkline("".join(commands), low, high, sum(v for _, v in present))
