"""WHERE clauses whose every user value is a bound parameter: the query text only ever holds `$names`."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from api.auth import Principal
from api.timeparams import iso
from devices.influxql import ParamValue
from devices.schema import TAG_DEVICE, TAG_VILLAGE, quote_identifier


@dataclass
class Conditions:
    """Clauses joined by AND; values go to `params` under generated names (`prefix` keeps two apart)."""

    prefix: str = "p"
    clauses: list[str] = field(default_factory=list)
    params: dict[str, ParamValue] = field(default_factory=dict)

    def _bind(self, value: ParamValue) -> str:
        name = f"{self.prefix}{len(self.params)}"
        self.params[name] = value
        return "$" + name

    def equals(self, tag: str, value: str) -> Conditions:
        """`tag` (a schema constant) equals `value` (user input, bound)."""
        self.clauses.append(f"{quote_identifier(tag)} = {self._bind(value)}")
        return self

    def one_of(self, tag: str, values: Iterable[str]) -> Conditions:
        """`tag` equals one of `values` (at least one)."""
        terms = [f"{quote_identifier(tag)} = {self._bind(v)}" for v in sorted(set(values))]
        if not terms:
            raise ValueError(f"no value for {tag}")
        self.clauses.append("(" + " OR ".join(terms) + ")")
        return self

    def between(self, start_ms: int, stop_ms: int) -> Conditions:
        """start ≤ time < stop."""
        self.clauses.append(f"time >= {self._bind(iso(start_ms))} AND time < {self._bind(iso(stop_ms))}")
        return self

    def scoped(self, caller: Principal) -> Conditions:
        """Only villages the caller may read (nothing added for callers who may read all)."""
        if caller.villages is not None:
            self.one_of(TAG_VILLAGE, caller.villages)
        return self

    def where(self) -> str:
        """` WHERE ...`, or nothing when there is no clause."""
        return " WHERE " + " AND ".join(self.clauses) if self.clauses else ""


def device_filter(caller: Principal, *, village: str | None = None, device: str | None = None) -> Conditions:
    """The usual filter: the caller's scope, then an optional village and device."""
    conditions = Conditions().scoped(caller)
    if village is not None:
        conditions.equals(TAG_VILLAGE, village)
    if device is not None:
        conditions.equals(TAG_DEVICE, device)
    return conditions
