"""Line protocol: escapes what it can, refuses what it must, and InfluxDB reads back exactly what was meant."""

from __future__ import annotations

import math

import httpx
import pytest

from devices.errors import LineProtocolError
from devices.lineprotocol import encode_point, escape_key, format_float
from tests.helpers import influx_rows


def test_escaping_of_keys_and_measurement() -> None:
    line = encode_point("water quality", {"village": "a b", "device": "x,y=z"}, {"p h": 7.25}, 1764489600123)
    assert line == r"water\ quality,device=x\,y\=z,village=a\ b p\ h=7.25 1764489600123"


@pytest.mark.parametrize("hostile", ["a\nb", "a\rb", "a\\", "tab\there", "nul\x00", ""])
def test_refuses_what_could_break_a_line(hostile: str) -> None:
    with pytest.raises(LineProtocolError):
        escape_key(hostile)
    with pytest.raises(LineProtocolError):
        encode_point("water", {"device": hostile}, {"ph": 7.0}, 0)


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_refuses_non_finite_values(value: float) -> None:
    with pytest.raises(LineProtocolError):
        format_float(value)


def test_every_number_is_written_as_a_float_field() -> None:
    assert format_float(7) == "7.0"
    assert format_float(1e16) == "1e+16"
    assert format_float(-0.0001) == "-0.0001"


def test_escaped_points_read_back_unchanged(influxdb, database_name) -> None:
    httpx.post(f"{influxdb.url}/query", data={"q": f'CREATE DATABASE "{database_name}"'}).raise_for_status()
    tags = {"village": "a b,c=d", "device": 'quote"d'}
    values = {"ph": 7.25, "big": 1e16, "tiny": 1e-9, "neg": -65.0}
    lines = [encode_point("water", tags, values, 1764489600123)]
    response = httpx.post(
        f"{influxdb.url}/write", params={"db": database_name, "precision": "ms"}, content="\n".join(lines)
    )
    assert response.status_code == 204, response.text
    rows = influx_rows(influxdb.url, database_name, "SELECT * FROM water")
    assert rows == [{"time": 1764489600123, **tags, **values}]
