"""Durations (`30d`, `12h`, `90m`, `45s`, `2w`) and times (ISO 8601, `now`, `-2d`) from the command line."""

from __future__ import annotations

import re
from datetime import datetime

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)\s*$")
_UNIT_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}


def parse_duration_ms(text: str) -> int:
    """Milliseconds of a duration such as `30d` or `1.5h`.

    Raises:
        ValueError: not a number followed by ms, s, m, h, d or w.
    """
    match = _DURATION.match(text)
    if match is None:
        raise ValueError(f"{text!r} is not a duration like 30d, 12h, 90m or 45s")
    return round(float(match.group(1)) * _UNIT_MS[match.group(2)])


def parse_time_ms(text: str, *, now_ms: int) -> int:
    """Epoch milliseconds of `now`, a relative `-2d` / `+1h`, or an ISO 8601 time with offset (or Z).

    Raises:
        ValueError: none of those, or an ISO time without a UTC offset.
    """
    text = text.strip()
    if text == "now":
        return now_ms
    if text[:1] in "+-":
        sign = -1 if text[0] == "-" else 1
        return now_ms + sign * parse_duration_ms(text[1:])
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{text!r} is not now, -2d or an ISO 8601 time like 2025-06-01T00:00:00Z") from None
    if parsed.tzinfo is None:
        raise ValueError(f"{text!r} has no UTC offset (add Z or +07:00)")
    return int(parsed.timestamp() * 1000)
