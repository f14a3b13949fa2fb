"""Times and durations in query strings: parsed once, into integer milliseconds UTC.

Instants: RFC 3339 with an offset (`2025-11-30T07:00:00+07:00`, `...Z`), a date (`2025-11-30`, midnight in
the request's time zone), epoch milliseconds (`1764460800000`), `now`, or `now-7d` / `-7d` relative to now.
Durations: a positive integer and one of `m`, `h`, `d`, `w` (`15m`, `1h`, `7d`).
"""

from __future__ import annotations

import functools
import re
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo, available_timezones

from api.errors import InvalidRequest

MINUTE_MS = 60_000
HOUR_MS = 60 * MINUTE_MS
DAY_MS = 24 * HOUR_MS
_UNIT_MS = {"m": MINUTE_MS, "h": HOUR_MS, "d": DAY_MS, "w": 7 * DAY_MS}

DURATION_PATTERN = r"^[1-9][0-9]{0,4}[mhdw]$"
_DURATION = re.compile(DURATION_PATTERN)
_RELATIVE = re.compile(r"^(?:now)?-([1-9][0-9]{0,4}[mhdw])$")
_EPOCH_MS = re.compile(r"^[0-9]{1,15}$")

EARLIEST_MS = 946_684_800_000  # 2000-01-01: no village sensor data is older
LATEST_MS = 4_102_444_800_000  # 2100-01-01: far inside InfluxDB's range (1677–2262)


def duration_ms(text: str, *, what: str) -> int:
    """Milliseconds of a duration such as `15m`, `1h`, `7d`.

    Raises:
        InvalidRequest: the text is not a duration.
    """
    if not _DURATION.fullmatch(text):
        raise InvalidRequest("invalid_duration", f"{what} must be like 15m, 1h, 7d (got {text[:40]!r})")
    return int(text[:-1]) * _UNIT_MS[text[-1]]


def format_duration(ms: int) -> str:
    """The shortest InfluxQL duration literal for a whole number of minutes (`90m`, `1h`, `7d`)."""
    for unit, size in (("d", DAY_MS), ("h", HOUR_MS), ("m", MINUTE_MS)):
        if ms % size == 0:
            return f"{ms // size}{unit}"
    raise ValueError(f"{ms} ms is not a whole number of minutes")


def instant_ms(text: str, *, now_ms: int, zone: ZoneInfo, what: str) -> int:
    """Epoch milliseconds of an instant given in any of the accepted forms.

    Raises:
        InvalidRequest: the text is none of the forms, has no offset, or lies outside 2000–2100.
    """
    value = _parse(text.strip(), now_ms=now_ms, zone=zone)
    if value is None:
        raise InvalidRequest(
            "invalid_time",
            f"{what} must be RFC 3339 with an offset, a date, epoch milliseconds, 'now' or 'now-7d' "
            f"(got {text[:40]!r})",
        )
    if not EARLIEST_MS <= value <= LATEST_MS:
        raise InvalidRequest("invalid_time", f"{what} must lie between 2000 and 2100")
    return value


def _parse(text: str, *, now_ms: int, zone: ZoneInfo) -> int | None:
    relative = _RELATIVE.fullmatch(text)
    if text == "now" or relative:
        return now_ms - (duration_ms(relative.group(1), what="relative time") if relative else 0)
    if _EPOCH_MS.fullmatch(text):
        return int(text)
    return _parse_date_or_rfc3339(text, zone)


def _parse_date_or_rfc3339(text: str, zone: ZoneInfo) -> int | None:
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return int(datetime.combine(day, time(), tzinfo=zone).timestamp() * 1000)
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return None
    return int(parsed.timestamp() * 1000)


def iso(ms: int) -> str:
    """RFC 3339 UTC with milliseconds, as InfluxDB bound parameters and CSV files carry time."""
    return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def zone_named(name: str) -> ZoneInfo:
    """The time zone `name`, checked against the system's IANA database (so it is safe in `tz()`).

    Raises:
        InvalidRequest: the zone is unknown.
    """
    if name not in _zones():
        raise InvalidRequest("invalid_timezone", f"unknown time zone {name[:60]!r} (IANA names, e.g. Asia/Ho_Chi_Minh)")
    return ZoneInfo(name)


@functools.cache
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())
