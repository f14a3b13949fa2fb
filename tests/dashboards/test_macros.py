"""Grafana's query expansion, checked against Grafana's own test cases and rangeutil/gtime behaviour."""

from __future__ import annotations

import pytest

from dashboards.errors import QueryTemplateError
from dashboards.macros import (
    TimeRange,
    Variable,
    calculate_interval_ms,
    duration_ms,
    escape_regex,
    expand,
    format_interval,
    format_value,
    resolve_range,
    round_interval,
)

HOUR = 3_600_000
DAY = 24 * HOUR


def single(name: str = "tempVar") -> Variable:
    return Variable(name, ("x",), multi=False, include_all=False)


# Cases of public/app/plugins/datasource/influxdb/datasource.test.ts, describe('interpolateQueryExpr').
@pytest.mark.parametrize(
    ("value", "query", "expected"),
    [
        ("normalValue", "my query $tempVar", "normalValue"),
        ("/special/path", "select atan(z/sqrt(3.14)), that where path =~ /$tempVar/", r"\/special\/path"),
        ("/special/path", "select that where path !~ /^$tempVar$/", r"\/special\/path"),
        ("/special/path", "select that where path = '$tempVar'", "/special/path"),
        ("12.2", "select that where path = '$tempVar'", "12.2"),
        ("1.0", "select value / $tempVar from /^measurement$/", "1.0"),
    ],
)
def test_single_value_is_escaped_only_inside_a_regex(value: str, query: str, expected: str) -> None:
    assert format_value((value,), single(), query) == expected


def test_multi_value_is_always_escaped_and_joined() -> None:
    variable = Variable("tempVar", ("/special/path", "/some/other/path"), multi=True, include_all=False)
    assert format_value(variable.values, variable, "select that where path = '$tempVar'") == (
        r"(\/special\/path|\/some\/other\/path)"
    )


def test_all_of_a_single_value_variable_is_escaped_and_joined_in_a_regex() -> None:
    variable = Variable("tempVar", ("/special/path", "/some/other/path"), multi=False, include_all=True)
    assert format_value(variable.values, variable, "select that where path =~ /$tempVar/") == (
        r"(\/special\/path|\/some\/other\/path)"
    )


def test_one_selected_value_of_a_multi_variable_keeps_the_parentheses() -> None:
    variable = Variable("village", ("phu-an",), multi=True, include_all=True)
    assert format_value(variable.values, variable, "x =~ /^$village$/") == "(phu-an)"


def test_escape_regex_is_grafanas_character_set() -> None:
    assert escape_regex(r"a.b*c+d?e^f$g(h)i|j[k]l{m}n/o\p-q") == r"a\.b\*c\+d\?e\^f\$g\(h\)i\|j\[k\]l\{m\}n\/o\\p-q"


def test_a_panel_query_is_expanded_like_grafana_11() -> None:
    variables = {"village": Variable("village", ("an-tay", "phu-an"), multi=True, include_all=True)}
    time_range = TimeRange(1_700_000_000_000, 1_700_000_000_000 + DAY)
    query = (
        'SELECT mean("pm25") AS "pm25" FROM "air" WHERE "village" =~ /^$village$/ AND $timeFilter '
        'GROUP BY time($__interval), "device" fill(none) LIMIT $__interval_ms'
    )
    expanded = expand(query, variables=variables, time_range=time_range, interval_ms=300_000)
    assert expanded == (
        'SELECT mean("pm25") AS "pm25" FROM "air" WHERE "village" =~ /^(an-tay|phu-an)$/ AND '
        'time >= 1700000000000ms and time <= 1700086400000ms GROUP BY time(5m), "device" fill(none) LIMIT 300000'
    )


def test_unknown_variables_are_refused_rather_than_sent() -> None:
    with pytest.raises(QueryTemplateError, match=r"\$village"):
        expand("SELECT 1 FROM x WHERE v =~ /^$village$/", variables={}, time_range=TimeRange(0, 1), interval_ms=1)
    with pytest.raises(QueryTemplateError, match="formats"):
        expand("SELECT ${v:csv}", variables={"v": single("v")}, time_range=TimeRange(0, 1), interval_ms=1)


@pytest.mark.parametrize(
    ("raw_ms", "rounded_ms"),
    [(9, 1), (12, 10), (1400, 1000), (12_000, 10_000), (72_000, 60_000), (288_000, 300_000),
     (2_016_000, 1_800_000), (8_640_000, 7_200_000), (50 * DAY, 31_536_000_000)],
)  # fmt: skip
def test_round_interval_follows_rangeutil(raw_ms: float, rounded_ms: int) -> None:
    assert round_interval(raw_ms) == rounded_ms


def test_interval_is_range_over_points_rounded_but_never_below_the_minimum() -> None:
    assert calculate_interval_ms(TimeRange(0, DAY), 300, "1m") == 300_000  # 24 h on a 300-point graph → 5m
    assert calculate_interval_ms(TimeRange(0, HOUR), 300, "1m") == 60_000  # 12 s rounds to 10 s, floor 1m
    assert calculate_interval_ms(TimeRange(0, HOUR), 300, None) == 10_000
    assert calculate_interval_ms(TimeRange(0, 30 * DAY), 300, "1m") == 7_200_000


@pytest.mark.parametrize(
    ("interval_ms", "text"),
    [(1, "1ms"), (999, "999ms"), (10_000, "10s"), (90_000, "1m"), (300_000, "5m"), (7_200_000, "2h"),
     (DAY, "1d"), (7 * DAY, "7d"), (0, "1ms")],
)  # fmt: skip
def test_format_interval_is_gtime_format_interval(interval_ms: int, text: str) -> None:
    assert format_interval(interval_ms) == text


def test_ranges_resolve_relative_to_now_and_panel_overrides_win() -> None:
    now = 1_800_000_000_000
    assert resolve_range("now-24h", "now", now_ms=now) == TimeRange(now - DAY, now)
    assert resolve_range("now-6h", "now-1h", now_ms=now) == TimeRange(now - 6 * HOUR, now - HOUR)
    assert resolve_range("now-24h", "now", now_ms=now, panel_time_from="30d") == TimeRange(now - 30 * DAY, now)
    assert duration_ms("90s") == 90_000
    with pytest.raises(QueryTemplateError):
        resolve_range("2024-01-01", "now", now_ms=now)
