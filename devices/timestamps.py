"""Device timestamps: what a board claims, and whether to believe it (DESIGN.md §3)."""

from __future__ import annotations

from datetime import datetime

CREDIBLE_FROM_MS = 1_577_836_800_000
"""2020-01-01T00:00:00Z. An ESP32 without NTP reports 1970; anything before this is not a real clock."""

MAX_FUTURE_MS = 5 * 60 * 1000
"""A device clock more than five minutes ahead of the receiver is not believed."""


def parse_device_ts(value: object) -> int | None:
    """Epoch milliseconds from a payload `ts` (integer ms or RFC 3339 with offset), or None if unusable.

    Floats with a fractional part, booleans, naive datetimes and anything else are unusable rather than
    errors: the reading is still good, only its clock is not, and the pipeline flags it.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and 0 < len(value) <= 40:
        return _parse_rfc3339_ms(value)
    return None


def _parse_rfc3339_ms(text: str) -> int | None:
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:  # a local time without offset could be any of 24 zones
        return None
    return int(parsed.timestamp() * 1000)


def is_credible(ts_ms: int, *, now_ms: int) -> bool:
    """True when a device time lies between 2020-01-01 and five minutes after `now_ms`."""
    return CREDIBLE_FROM_MS <= ts_ms <= now_ms + MAX_FUTURE_MS
