"""JSON text from devices, parsed the same way on every path, and objects that repeat a name found.

Parsing: orjson first (what the ingestor's fast path uses, nesting up to 1,024), then, for what orjson refuses but
firmware JSON writers emit (integers beyond 64 bits, numbers beyond the double range, and for native payloads the
tokens NaN and ±Infinity), pydantic's parser.

Repeated names: RFC 8259 §4 says that when the names within an object are not unique, "the behavior of software
that receives such an object is unpredictable". Both parsers keep the last value and drop the others without a
word, so `{"readings": {"ph": 7.1, "ph": 8.4}}` would lose a reading silently. Callers refuse such objects
instead (their raw payload goes to the rejected store). The check is cheap when it can be: every `"` of JSON text
delimits a name or a string, or is an escaped quote inside one, so text whose parsed value has as many names and
strings as the text has quote pairs repeats no name. Otherwise the text is parsed again to find the objects that do.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import orjson
import pydantic_core


def loads(payload: bytes, *, allow_nan: bool = True) -> Any:  # noqa: ANN401 - any JSON value
    """Parse JSON text (UTF-8); `allow_nan` accepts the tokens NaN, Infinity and -Infinity.

    Raises:
        ValueError: not JSON (orjson.JSONDecodeError or pydantic's parser's error, both ValueError).
    """
    try:
        return orjson.loads(payload)
    except orjson.JSONDecodeError:
        return pydantic_core.from_json(payload, allow_inf_nan=allow_nan)


@dataclass(frozen=True, slots=True)
class RepeatedNames:
    """Stands for an object that repeats names, in the structure `marked` returns."""

    names: tuple[str, ...]

    def __str__(self) -> str:
        return ", ".join(repr(name[:40]) for name in self.names[:5])


def marked(payload: bytes, value: Any) -> Any:  # noqa: ANN401 - any JSON value
    """None when no object of `payload` (parsed as `value`) repeats a name; otherwise the text parsed again with
    each object that does replaced by a RepeatedNames (containers keep their shape, so positions still match).

    Raises:
        ValueError: the text is nested too deeply to be checked (beyond Python's recursion limit).
    """
    if _no_repeats(payload, value):
        return None
    found = False

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any] | RepeatedNames:
        nonlocal found
        names = [name for name, _ in items]
        if len(set(names)) == len(names):
            return dict(items)
        found = True
        return RepeatedNames(tuple(sorted({name for name in names if names.count(name) > 1})))

    zero = lambda _text: 0  # noqa: E731 - numbers do not matter here, and big ones must not fail
    try:
        again = json.loads(payload, object_pairs_hook=pairs, parse_int=zero, parse_float=zero, parse_constant=zero)
    except RecursionError:
        raise ValueError("nested too deeply to check its names") from None
    return again if found else None


def _no_repeats(payload: bytes, value: Any) -> bool:  # noqa: ANN401 - any JSON value
    """True when the quote count proves no name is repeated (False: maybe; look closer).

    Without a backslash, the text's quotes are exactly two per name and string; orjson writing the parsed value back
    gives two per distinct name and string. Equal counts: no repeats. (Escapes could move the counts either way.)
    """
    if b"\\" in payload:
        return False
    try:
        written = orjson.dumps(value)
    except orjson.JSONEncodeError:  # NaN, ±Infinity, integers beyond 64 bits: count by walking the value
        return payload.count(b'"') == 2 * strings_in(value)
    return payload.count(b'"') == written.count(b'"')


def first_repeated(value: Any) -> RepeatedNames | None:  # noqa: ANN401 - any JSON value
    """The first RepeatedNames inside a value returned by `marked`, if any."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, RepeatedNames):
            return item
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return None


def strings_in(value: Any) -> int:  # noqa: ANN401 - any JSON value
    """Names and string values in a parsed JSON value (iteratively: it may be nested 1,000 deep)."""
    count = 0
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            count += len(item)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str):
            count += 1
    return count
