"""Line protocol as the schema allows it, checked strictly: what a hostile payload must never get past."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from devices.ids import is_identifier
from devices.schema import MEASUREMENTS

_LINE = re.compile(r"(?P<key>[a-z]+(?:,[a-z_]+=[^ ,=\\\n]+)+) (?P<fields>\S+) (?P<ts>-?\d{1,19})")
_FIELD = re.compile(r"(?P<name>[a-z0-9_]+)=(?P<value>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)")


@dataclass(frozen=True)
class Point:
    measurement: str
    tags: dict[str, str]
    fields: dict[str, float]
    ts_ms: int


def checked_point(line: str) -> Point:
    """Parse one line, asserting it is exactly what the schema allows: a known measurement with exactly its tags,
    every tag value an identifier, known float fields with finite values, an integer timestamp."""
    found = _LINE.fullmatch(line)
    assert found, f"not a line of the schema: {line!r}"
    measurement, *pairs = found["key"].split(",")
    schema = MEASUREMENTS.get(measurement)
    assert schema is not None, f"unknown measurement in {line!r}"
    tags = dict(pair.split("=", 1) for pair in pairs)
    assert tuple(sorted(tags)) == tuple(sorted(schema.tags)), f"tags {sorted(tags)} in {line!r}"
    assert all(is_identifier(v) for v in tags.values()), f"tag value not an identifier in {line!r}"
    fields = {}
    for text in found["fields"].split(","):
        field = _FIELD.fullmatch(text)
        assert field and field["name"] in schema.fields, f"field {text!r} in {line!r}"
        value = float(field["value"])
        assert math.isfinite(value)
        fields[field["name"]] = value
    return Point(measurement, tags, fields, int(found["ts"]))
