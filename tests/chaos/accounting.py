"""Counting a chaos run: what the ground truth says was published, what must be stored and rejected, and what
InfluxDB and the rejected store actually hold.

Units are readings: every reading of every published sample (`bat` and `rssi` included), every SenML record, and
1 for a payload or array element the contract refuses as a whole (its readings cannot be counted).

- published: per message, from `simulators.prediction` run on that message alone (stored + rejected units);
- expected: the prediction of the whole log (points collapse across messages: a duplicate publish of a reading
  with a device clock rewrites the same point);
- collapsed: published − expected stored − expected rejected, cross-checked against the simulator's own record
  of the messages it published twice (fault `duplicate`);
- stored: distinct points in InfluxDB (device, quantity, time), per data measurement;
- rejected: rejections in the rejected store, read with `village rejects list --json`.

Redelivery after a crash is at-least-once: a message already recorded as rejected, or a reading stored at its
receive time (no device clock), may be recorded or stored a second time. Those copies are matched to what was
published, counted separately (never inside `stored` or `rejected`), and only allowed where the scenario says
the ingestor or broker was cut off.
"""

from __future__ import annotations

import base64
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from devices.errors import PayloadError
from devices.payload import InvalidSample, decode_telemetry
from devices.quantities import QUANTITIES
from devices.schema import DATA_MEASUREMENTS
from devices.timestamps import is_credible, parse_device_ts
from simulators.prediction import Prediction, predict
from tests.helpers import influx_rows

INGESTED = ("telemetry", "senml", "status")
READING_CHANNELS = ("telemetry", "senml")

Entry = Mapping[str, Any]
PointKey = tuple[str, str, int]


def payload_of(entry: Entry) -> bytes:
    """The bytes published: hostile logs keep non-UTF-8 payloads as base64."""
    if "payload_b64" in entry:
        return base64.b64decode(entry["payload_b64"])
    return str(entry["payload"]).encode()


def channel_of(entry: Entry) -> str:
    return str(entry["topic"]).rsplit("/", 1)[-1]


def published_messages(entries: Iterable[Entry]) -> list[Entry]:
    """Messages published on the channels the ingestor subscribes to, in publish order."""
    return [e for e in entries if e.get("event", "publish") == "publish" and _subscribed(str(e["topic"]))]


def _subscribed(topic: str) -> bool:
    """Whether `village/+/+/{telemetry,senml,status}` matches (what reaches the ingestor at all)."""
    parts = topic.split("/")
    return len(parts) == 4 and parts[0] == "village" and parts[3] in INGESTED


@dataclass(frozen=True)
class Expected:
    """What one published message must become."""

    index: int
    entry: Entry
    reasons: tuple[str, ...]
    quantities: tuple[str, ...]
    """Quantities named by reading-level rejections (native payloads)."""
    units: int
    duplicate_points: int
    """Points this message repeats because the simulator published it twice (fault `duplicate`)."""


def expect_message(index: int, entry: Entry) -> Expected:
    """The outcome of one message: its own `expect` (hostile messages the contract decides before prediction
    can, e.g. an invalid topic or a registry verdict), else the prediction of the message alone."""
    if "expect" in entry:
        reasons = tuple(sorted(entry["expect"]))
        return Expected(index, entry, reasons, (), len(reasons), 0)
    alone = predict([{**entry, "payload": payload_of(entry).decode()}], channels=INGESTED)
    reasons = tuple(sorted(r.reason.value for r in alone.rejections))
    quantities = tuple(sorted(r.quantity for r in alone.rejections if r.quantity and r.position is None))
    units = len(alone.points) + sum(alone.receive_time.values()) + len(alone.rejections)
    # a status is a state change, not a reading: only a refused one counts (final states are checked apart)
    kinds = {f.get("kind") for f in entry.get("faults") or ()}
    return Expected(index, entry, reasons, quantities, units, len(alone.points) if "duplicate" in kinds else 0)


@dataclass
class Ledger:
    """Everything the ground truth implies for a run."""

    messages: list[Expected]
    prediction: Prediction
    published: int
    collapsed: int
    duplicate_points: int

    @property
    def expected_stored(self) -> int:
        return self.prediction.stored_count()

    @property
    def expected_rejected(self) -> int:
        return sum(len(m.reasons) for m in self.messages)

    def status_messages(self) -> int:
        return sum(1 for m in self.messages if channel_of(m.entry) == "status")


def ledger(entries: Sequence[Entry]) -> Ledger:
    """The ledger of a run from its ground-truth logs (merged in publish order)."""
    messages = [expect_message(i, e) for i, e in enumerate(published_messages(entries))]
    predictable = [  # hostile messages with their own verdict store nothing
        {**m.entry, "payload": payload_of(m.entry).decode()} for m in messages if "expect" not in m.entry
    ]
    wills = [e for e in entries if e.get("event") == "will"]
    prediction = predict([*predictable, *wills], channels=INGESTED)
    published = sum(m.units for m in messages)
    rejected = sum(len(m.reasons) for m in messages)
    return Ledger(
        messages=messages,
        prediction=prediction,
        published=published,
        collapsed=published - prediction.stored_count() - rejected,
        duplicate_points=sum(m.duplicate_points for m in messages),
    )


@dataclass
class StoredPoints:
    """Distinct reading points in InfluxDB."""

    timed: dict[PointKey, float] = field(default_factory=dict)
    """Points at a device time the prediction knows, with their values."""
    receive_time: dict[tuple[str, str], list[float]] = field(default_factory=dict)
    """Other points (stored at the receive time), their values per (device, quantity)."""

    @property
    def count(self) -> int:
        return len(self.timed) + sum(len(v) for v in self.receive_time.values())


def stored_points(influx_url: str, database: str, prediction: Prediction) -> StoredPoints:
    """Every reading in the data measurements, split into predicted device-time points and the rest."""
    found = StoredPoints()
    for measurement in DATA_MEASUREMENTS:
        for row in influx_rows(influx_url, database, f'SELECT * FROM "{measurement.name}"'):
            for quantity in measurement.fields:
                value = row.get(quantity)
                if value is None:
                    continue
                key = (str(row["device"]), quantity, int(str(row["time"])))
                if key in prediction.points:
                    found.timed[key] = float(value)  # type: ignore[arg-type]
                else:
                    found.receive_time.setdefault(key[:2], []).append(float(value))  # type: ignore[arg-type]
    return found


def stored_count(influx_url: str, database: str) -> int:
    """Readings in the data measurements (distinct points: a rewrite of the same point counts once)."""
    total = 0
    for measurement in DATA_MEASUREMENTS:
        for row in influx_rows(influx_url, database, f'SELECT count(*) FROM "{measurement.name}"'):
            total += sum(int(v) for k, v in row.items() if k.startswith("count_") and v)  # type: ignore[call-overload]
    return total


def receive_time_values(messages: Iterable[Expected]) -> dict[tuple[str, str], list[float]]:
    """Values published without a credible device clock, per (device, quantity) (native payloads)."""
    values: dict[tuple[str, str], list[float]] = {}
    for message in messages:
        entry = message.entry
        if channel_of(entry) != "telemetry" or "expect" in entry:
            continue
        device = str(entry["topic"]).split("/")[2]
        try:
            decoded = decode_telemetry(payload_of(entry))
        except PayloadError:
            continue
        for item in decoded:
            if isinstance(item, InvalidSample):
                continue
            ts = parse_device_ts(item.ts)
            if ts is not None and is_credible(ts, now_ms=int(entry["sent_ms"])):
                continue
            for quantity, raw in {**item.readings, **item.health()}.items():
                if _storable(quantity, raw):
                    values.setdefault((device, quantity), []).append(float(raw))
    return values


def _storable(quantity: str, raw: object) -> bool:
    """A known quantity with a finite number inside its hard limits (what the contract stores)."""
    limits = QUANTITIES.get(quantity)
    if limits is None or isinstance(raw, bool) or not isinstance(raw, int | float):
        return False
    return math.isfinite(raw) and limits.hard_min <= raw <= limits.hard_max


@dataclass
class RejectedEntries:
    """What the rejected store holds, matched message by message against the ledger."""

    rejections: int = 0
    """Rejection units, one copy per published message."""
    copies: int = 0
    """Entries recorded again for a message already recorded (redelivery after a crash)."""
    copied_rejections: int = 0
    mismatched: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    unexplained: list[str] = field(default_factory=list)


def match_rejections(ledger: Ledger, entries: Sequence[Mapping[str, Any]]) -> RejectedEntries:
    """Match store entries to published messages by (topic, payload); compare reasons message by message."""
    wanted: dict[tuple[str, bytes], list[Expected]] = {}
    for message in ledger.messages:
        if message.reasons:
            wanted.setdefault((str(message.entry["topic"]), payload_of(message.entry)), []).append(message)
    held: dict[tuple[str, bytes], list[Mapping[str, Any]]] = {}
    for entry in entries:
        payload = base64.b64decode(entry["payload_b64"]) if "payload_b64" in entry else str(entry["payload"]).encode()
        held.setdefault((str(entry["topic"]), payload), []).append(entry)
    result = RejectedEntries()
    for key, messages in wanted.items():
        recorded = held.pop(key, [])
        shown = f"{key[0]} {key[1][:80]!r}"
        if len(recorded) < len(messages):
            result.missing.append(f"{shown}: {len(messages)} published with rejections, {len(recorded)} recorded")
        for message, entry in zip(messages, recorded, strict=False):
            result.rejections += _compare(message, entry, result, shown)
        for entry in recorded[len(messages) :]:
            result.copies += 1
            result.copied_rejections += _compare(messages[0], entry, result, shown)
    result.unexplained = [f"{topic} {payload[:80]!r}" for topic, payload in held]
    return result


def _compare(message: Expected, entry: Mapping[str, Any], result: RejectedEntries, shown: str) -> int:
    rejections = entry.get("rejections", [])
    reasons = tuple(sorted(str(r["reason"]) for r in rejections))
    named = Counter(str(r.get("quantity")) for r in rejections if r.get("quantity"))
    if reasons != message.reasons or Counter(message.quantities) - named:
        result.mismatched.append(f"{shown}: recorded {reasons} {dict(named)}, predicted {message.reasons}")
    return len(rejections)


@dataclass
class Figures:
    """One scenario's outcome, as printed and as RELIABILITY.md tabulates it."""

    scenario: str
    published: int
    stored: int
    rejected: int
    collapsed: int
    seconds: float
    messages: int
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def lost(self) -> int:
        return self.published - self.collapsed - self.stored - self.rejected

    def line(self) -> str:
        extra = "".join(f", {k} {v}" for k, v in self.extra.items())
        return (
            f"chaos {self.scenario}: {self.messages} messages, published {self.published} readings = "
            f"stored {self.stored} + rejected {self.rejected} + duplicates collapsed {self.collapsed}; "
            f"lost {self.lost}; {self.seconds:.0f} s{extra}"
        )
