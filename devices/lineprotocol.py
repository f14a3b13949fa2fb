"""InfluxDB line protocol: the only way data leaves the pipeline, so it escapes or refuses anything unsafe.

Identifiers reaching here are already validated against the identifier pattern; the checks below are the
second wall, so no future caller can inject a newline, a tag or a field.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping

from devices.errors import LineProtocolError

_FORBIDDEN = re.compile(r"[\x00-\x1f\x7f\\]")
_ESCAPE_KEY = str.maketrans({",": r"\,", "=": r"\=", " ": r"\ "})
_ESCAPE_MEASUREMENT = str.maketrans({",": r"\,", " ": r"\ "})


def _checked(value: str, *, what: str) -> str:
    if not value:
        raise LineProtocolError(f"empty {what}")
    if _FORBIDDEN.search(value):
        raise LineProtocolError(f"{what} {value[:80]!r} contains a control character or backslash")
    return value


def escape_measurement(name: str) -> str:
    """A measurement name with commas and spaces escaped; control characters are refused."""
    return _checked(name, what="measurement").translate(_ESCAPE_MEASUREMENT)


def escape_key(key: str) -> str:
    """A tag key, tag value or field key with commas, equals signs and spaces escaped."""
    return _checked(key, what="tag or field").translate(_ESCAPE_KEY)


def format_float(value: float) -> str:
    """A finite float as InfluxDB reads it back exactly (shortest round-trip repr, always a float field)."""
    if not math.isfinite(value):
        raise LineProtocolError(f"field value {value!r} is not finite")
    return repr(float(value))


def series_key(measurement: str, tags: Mapping[str, str]) -> str:
    """`measurement,tag=value,...` with tags in key order, as InfluxDB stores them."""
    parts = [escape_measurement(measurement)]
    parts.extend(f"{escape_key(k)}={escape_key(tags[k])}" for k in sorted(tags))
    return ",".join(parts)


def encode_line(series: str, fields: Iterable[tuple[str, float]], ts_ms: int) -> str:
    """One point from a prepared series key. Field names must be safe keys (schema names are)."""
    body = ",".join(f"{escape_key(name)}={format_float(value)}" for name, value in fields)
    if not body:
        raise LineProtocolError(f"point {series[:80]!r} has no fields")
    return f"{series} {body} {int(ts_ms)}"


def encode_point(measurement: str, tags: Mapping[str, str], fields: Mapping[str, float], ts_ms: int) -> str:
    """One point of line protocol in millisecond precision, every field a float."""
    return encode_line(series_key(measurement, tags), fields.items(), ts_ms)
