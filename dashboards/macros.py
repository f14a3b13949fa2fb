"""Grafana's expansion of an InfluxQL panel query, reproduced so `check` sends InfluxDB what Grafana would.

Grafana 11 expands a raw InfluxQL query in two steps, emulated here step for step:

1. Frontend, `InfluxDatasource.applyTemplateVariables` (public/app/plugins/datasource/influxdb/datasource.ts):
   `$__interval`/`$__interval_ms` are left for the backend; dashboard variables are replaced by
   `templateSrv.replace` (variable syntax of public/app/features/variables/utils.ts `variableRegex`) with the
   data source's formatter `interpolateQueryExpr`: a multi-value variable becomes `(a|b|c)` with each value
   regex-escaped (`escapeRegex`, packages/grafana-data/src/text/string.ts); a single value is escaped only when
   the query uses it inside `/.../`; numeric-looking values are never escaped.
2. Backend, `Query.Build` (pkg/tsdb/influxdb/models/query.go): `$timeFilter` becomes
   `time >= <from>ms and time <= <to>ms`, `$interval` and `$__interval` the interval formatted by
   `gtime.FormatInterval` (grafana-plugin-sdk-go), `$__interval_ms` its milliseconds.

The interval itself is the frontend's `rangeutil.calculateInterval(range, maxDataPoints, minInterval)`: range /
maxDataPoints rounded by `roundInterval`, but never below the panel's or data source's minimum interval. Alert
rules take `intervalMs` from their query model (ngalert's default is 1000 ms).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from dashboards.errors import QueryTemplateError

_DAY_MS = 86_400_000
_UNIT_MS = {
    "ms": 1,
    "s": 1000,
    "m": 60_000,
    "h": 3_600_000,
    "d": _DAY_MS,
    "w": 7 * _DAY_MS,
    "M": 30 * _DAY_MS,
    "y": 365 * _DAY_MS,
}
_DURATION = re.compile(r"^(-?\d+(?:\.\d+)?)(ms|[Mwdhmsy])$")
_RELATIVE = re.compile(r"^now(?:-(\d+)([smhdwMy]))?$")

# packages/grafana-data/src/datetime/rangeutil.ts roundInterval: (upper bound exclusive, rounded interval), ms
_ROUND_STEPS: tuple[tuple[int, int], ...] = (
    (10, 1), (15, 10), (35, 20), (75, 50), (150, 100), (350, 200), (750, 500), (1500, 1000), (3500, 2000),
    (7500, 5000), (12500, 10000), (17500, 15000), (25000, 20000), (45000, 30000), (90000, 60000),
    (210000, 120000), (450000, 300000), (750000, 600000), (1050000, 900000), (1500000, 1200000),
    (2700000, 1800000), (5400000, 3600000), (9000000, 7200000), (16200000, 10800000), (32400000, 21600000),
    (86400000, 43200000), (604800000, 86400000), (1814400000, 604800000), (3628800000, 2592000000),
)  # fmt: skip
_YEAR_MS = 31_536_000_000

# variableRegex with JS `\w` (ASCII word characters)
_W = "[A-Za-z0-9_]"
_VARIABLE = re.compile(rf"\$({_W}+)|\[\[({_W}+?)(?::({_W}+))?\]\]|\$\{{({_W}+)(?:\.([^:^\}}]+))?(?::([^\}}]+))?\}}")
_JS_FLOAT_PREFIX = re.compile(r"^\s*[+-]?(?:Infinity|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)")
_REGEX_ESCAPE = re.compile(r"[\\^$*+?.()|\[\]{}/]")


@dataclass(frozen=True, slots=True)
class TimeRange:
    """An absolute query range in epoch milliseconds, as Grafana resolves `now-24h` to `now`."""

    from_ms: int
    to_ms: int


@dataclass(frozen=True, slots=True)
class Variable:
    """A dashboard variable's current value(s) and the two flags Grafana's formatter looks at."""

    name: str
    values: tuple[str, ...]
    multi: bool
    include_all: bool


def duration_ms(text: str) -> int:
    """`describeInterval`: `90s`, `5m`, `24h`, `30d` → milliseconds.

    Raises:
        QueryTemplateError: not an interval Grafana understands.
    """
    match = _DURATION.match(text.strip())
    if not match:
        raise QueryTemplateError(f"{text!r} is not a Grafana interval")
    return int(float(match.group(1)) * _UNIT_MS[match.group(2)])


def resolve_range(time_from: str, time_to: str, *, now_ms: int, panel_time_from: str | None = None) -> TimeRange:
    """A dashboard range (`now-24h` … `now`), or a panel's relative-time override (`timeFrom: 24h` → last 24 h)."""
    if panel_time_from:
        return TimeRange(now_ms - duration_ms(panel_time_from), now_ms)
    return TimeRange(_resolve(time_from, now_ms), _resolve(time_to, now_ms))


def _resolve(text: str, now_ms: int) -> int:
    match = _RELATIVE.match(text)
    if not match:
        raise QueryTemplateError(f"time {text!r}: only now and now-<n><unit> are supported")
    if match.group(1) is None:
        return now_ms
    return now_ms - int(match.group(1)) * _UNIT_MS[match.group(2)]


def round_interval(interval_ms: float) -> int:
    """rangeutil.roundInterval: a "nice" interval for a raw range/points quotient."""
    for bound, rounded in _ROUND_STEPS:
        if interval_ms < bound:
            return rounded
    return _YEAR_MS


def calculate_interval_ms(time_range: TimeRange, max_data_points: int, min_interval: str | None) -> int:
    """rangeutil.calculateInterval: the panel's `$__interval` in milliseconds."""
    low_ms = duration_ms(min_interval) if min_interval else 1
    interval = round_interval((time_range.to_ms - time_range.from_ms) / max_data_points)
    return max(interval, low_ms)


def format_interval(interval_ms: int) -> str:
    """gtime.FormatInterval: the largest whole unit, truncated (90 s → `1m`), at least `1ms`."""
    for unit, size in (("y", _YEAR_MS), ("d", _DAY_MS), ("h", 3_600_000), ("m", 60_000), ("s", 1000), ("ms", 1)):
        if interval_ms >= size:
            return f"{interval_ms // size}{unit}"
    return "1ms"


def escape_regex(value: str) -> str:
    """@grafana/data escapeRegex: backslash before each of \\ ^ $ * + ? . ( ) | [ ] { } /."""
    return _REGEX_ESCAPE.sub(lambda m: "\\" + m.group(0), value)


def _looks_numeric(value: str) -> bool:
    """JavaScript's `!isNaN(parseFloat(value))`: true when the text starts with a number."""
    return bool(_JS_FLOAT_PREFIX.match(value))


def format_value(values: Sequence[str], variable: Variable, query: str) -> str:
    """InfluxDatasource.interpolateQueryExpr for one variable in one query.

    A multi-value or All selection arrives as a list; a single-value variable's value as a string.
    """
    value: str | Sequence[str] = values if (variable.multi or len(values) != 1) else values[0]
    if isinstance(value, str) and _looks_numeric(value):
        return value
    if variable.multi:
        if isinstance(value, str):
            return escape_regex(value)
        return "(" + "|".join(escape_regex(v) for v in value) + ")"
    if not re.search(r"(?<=/).+?(?=/)", query):
        return _as_text(value)
    if not re.search(rf"/(?:\^)?(.*)(\${re.escape(variable.name)})(.*)(?:\$)?/", query):
        return _as_text(value)
    return escape_regex(value) if isinstance(value, str) else "(" + "|".join(escape_regex(v) for v in value) + ")"


def _as_text(value: str | Sequence[str]) -> str:
    """templateSrv's fallback when the formatter returns a value unchanged: arrays join with commas."""
    return value if isinstance(value, str) else ",".join(value)


def interpolate_variables(query: str, variables: Mapping[str, Variable]) -> str:
    """templateSrv.replace with the InfluxDB formatter; unknown names and the backend's macros stay as they are.

    Raises:
        QueryTemplateError: a variable is used with an explicit `${var:format}`, which this emulation does not do.
    """

    def replace(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2) or match.group(4)
        if match.group(3) or match.group(5) or match.group(6):
            raise QueryTemplateError(f"{match.group(0)!r}: explicit variable formats are not emulated")
        variable = variables.get(name)
        if variable is None:
            return match.group(0)
        return format_value(variable.values, variable, query)

    return _VARIABLE.sub(replace, query)


def expand_backend(query: str, time_range: TimeRange, interval_ms: int) -> str:
    """Query.Build for a raw query: the time filter and interval macros, in Grafana's replacement order."""
    text = format_interval(interval_ms)
    time_filter = f"time >= {time_range.from_ms}ms and time <= {time_range.to_ms}ms"
    query = query.replace("$timeFilter", time_filter)
    query = query.replace("$interval", text)
    query = query.replace("$__interval_ms", str(interval_ms))
    return query.replace("$__interval", text)


def expand(query: str, *, variables: Mapping[str, Variable], time_range: TimeRange, interval_ms: int) -> str:
    """Both steps; then refuse anything Grafana would have left unexpanded (InfluxDB would fail on it).

    Raises:
        QueryTemplateError: `$name` survives expansion: an unknown variable or macro.
    """
    expanded = expand_backend(interpolate_variables(query, variables), time_range, interval_ms)
    left = sorted({m.group(1) or m.group(2) or m.group(4) for m in _VARIABLE.finditer(expanded)})
    if left:
        raise QueryTemplateError(f"not expanded: {', '.join('$' + name for name in left)} in {query!r}")
    return expanded
