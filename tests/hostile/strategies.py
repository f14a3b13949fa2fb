"""Hypothesis strategies for what a device (or anyone with the broker's address) can publish.

Payloads are built as JSON values and written by `json_text`, which can emit what no JSON library writes by
default: NaN and ±Infinity tokens, integers of any size, names repeated in one object, escapes for plain letters.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

from devices.quantities import QUANTITIES

NOW_MS = 1_764_489_600_000
QUANTITY_NAMES = sorted(QUANTITIES)

names = st.sampled_from(QUANTITY_NAMES) | st.text(max_size=12) | st.sampled_from(
    ["pH", "ph ", "p\u0570", "ph\u200b", "ph=1", "ph,x=1", "ph\nwater ph=1 1", "\uff50\uff48", "", "bat", "rssi"]
)  # fmt: skip
numbers = (
    st.floats(allow_nan=True, allow_infinity=True)
    | st.floats(min_value=-100, max_value=100_000)
    | st.integers()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.sampled_from([0, -0.0, 5e-324, 1e308, 2**63, 2**64, -(2**63) - 1, 10**400])
)


class Deep:
    """An array nested `depth` levels: around the parsers' limits (pydantic 200, orjson 1,024, Python ~1,000)."""

    def __init__(self, depth: int) -> None:
        self.depth = depth

    def __repr__(self) -> str:
        return f"Deep({self.depth})"


scalars = st.none() | st.booleans() | numbers | st.text(max_size=16) | st.builds(Deep, st.integers(150, 1100))
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=6,
)
timestamps = (
    st.integers(min_value=NOW_MS - 10 * 86_400_000, max_value=NOW_MS + 3_600_000)
    | st.sampled_from([NOW_MS // 1000, NOW_MS * 1000, NOW_MS * 1_000_000, 0, -1, 52_000, 2**63, float(NOW_MS)])
    | st.sampled_from(["2025-11-30T08:00:00Z", "2025-11-30T15:00:00+07:00", "2025-11-30T08:00:00", "1970-01-01T00:00Z"])
    | values
)  # fmt: skip
readings = st.dictionaries(names, numbers | values, max_size=6)
samples = st.fixed_dictionaries(
    {"readings": readings},
    optional={"ts": timestamps, "seq": st.integers(min_value=-1, max_value=2**33) | values, "bat": numbers | values,
              "rssi": numbers | values, "fw": values},
)  # fmt: skip
native_values = samples | st.lists(samples | values, max_size=5) | values

senml_names = st.sampled_from([*QUANTITY_NAMES, "urn:dev:mac:0024befffe804ff1:", "d:", "x y", "ph\n"]) | st.text(
    max_size=8
)
senml_records = st.fixed_dictionaries(
    {},
    optional={
        "bn": senml_names | values, "bt": st.floats(-1e3, 2e9) | st.integers(0, 2**40) | values,
        "bu": st.sampled_from(["Cel", "K", "%RH", "m", "ug/m3", "/"]) | values, "bv": numbers | values,
        "bver": st.integers(0, 12) | values, "n": senml_names | values,
        "u": st.sampled_from(["Cel", "K", "pH", "%RH", "m", "cm", "lx", "S/m", "hPa", "dBm", "bogus"]) | values,
        "v": numbers | values, "vs": st.text(max_size=5), "vb": st.booleans(), "s": numbers, "t": numbers | values,
    },
)  # fmt: skip
good_records = st.fixed_dictionaries(
    {"n": st.sampled_from(["ph", "do", "ec", "turbidity", "water_temp"]), "v": st.floats(0, 14)},
    optional={"t": st.integers(-100, 0), "bt": st.just(NOW_MS / 1000 - 60)},
)
senml_values = st.lists(good_records | senml_records | values, max_size=6) | values

status_payloads = st.sampled_from([b"online", b"OFFLINE ", b"on line", b'{"state": "online"}', b"{}"]) | st.binary(
    max_size=64
)

segments = st.sampled_from(["v1", "d1", "a-b_c", "", "V1", "d 1", "d,x=1", "d\u0430", "\uff44", "x" * 65]) | st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="/+#\x00"), max_size=10
)
topics = st.builds(
    lambda v, d, c: f"village/{v}/{d}/{c}", segments, segments, st.sampled_from(["telemetry", "senml", "status", "x"])
) | st.text(max_size=30)


@st.composite
def json_text(draw: st.DrawFn, value: st.SearchStrategy[Any], *, repeats: bool = True) -> tuple[bytes, bool]:
    """JSON text of a drawn value, and whether every non-empty object in it repeats a name (one time in eight);
    a name's first letter is sometimes written as a \\u escape."""
    chosen = draw(value)
    repeat = repeats and draw(st.integers(0, 7)) == 0
    escape = draw(st.integers(0, 7)) == 0
    return _dump(chosen, repeat=repeat, escape=escape).encode("utf-8", errors="surrogatepass"), repeat


def _dump(value: Any, *, repeat: bool, escape: bool) -> str:
    if isinstance(value, dict):
        items = list(value.items())
        if repeat and items:
            items.append((items[0][0], items[-1][1]))
        parts = [f"{_name(k, escape=escape)}:{_dump(v, repeat=repeat, escape=escape)}" for k, v in items]
        return "{" + ",".join(parts) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_dump(v, repeat=repeat, escape=escape) for v in value) + "]"
    if isinstance(value, Deep):
        return "[" * value.depth + "]" * value.depth
    return json.dumps(value, allow_nan=True)


def _name(key: str, *, escape: bool) -> str:
    if escape and key[:1].isascii() and key[:1].isalpha():
        return f'"\\u{ord(key[0]):04x}{json.dumps(key)[2:]}'
    return json.dumps(key)
