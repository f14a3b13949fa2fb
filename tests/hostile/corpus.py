"""The hostile corpus (corpus.toml) as cases: topic and payload bytes for a given village, and the promised outcome."""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from devices.registry import RegisteredDevice, Registry, Village

CORPUS = Path(__file__).with_name("corpus.toml")
T = 1_764_489_600_000
"""The credible device time of the corpus: 2025-11-30T08:00:00Z."""
MIB = 2**20

_RECIPES: dict[str, Callable[[], bytes]] = {
    "deep_array_100k": lambda: b"[" * 100_000 + b"]" * 100_000,
    "deep_object_40k": lambda: b'{"a":' * 40_000 + b"1" + b"}" * 40_000,  # 240 KB: under the size limit
    "deep_unknown_key_500": lambda: b'{"readings": {"ph": 7.0}, "ts": %d, "x": %s}' % (T, _nest(500)),
    "deep_reading_500": lambda: b'{"readings": {"ph": %s}, "ts": %d}' % (_nest(500), T),
    "deep_element_in_array_500": lambda: (
        b'[{"readings": {"ph": 7.0}, "ts": %d, "x": %s}, {"readings": {"do": 6.0}, "ts": %d}]' % (T, _nest(500), T + 1)
    ),
    "ten_mib_native": lambda: b'{"readings": {"ph": 7.0}, "ts": %d, "pad": "%s"}' % (T, b"a" * (10 * MIB)),
    "ten_mib_senml": lambda: b'[{"n": "ph", "v": 7.0, "vs": "%s"}]' % (b"a" * (10 * MIB)),
    "ten_mib_garbage": lambda: b"x" * (10 * MIB),
    "array_1001": lambda: orjson.dumps([{"readings": {"ph": 7.0}, "ts": T + i} for i in range(1001)]),
    "senml_1001": lambda: orjson.dumps([{"n": "ph", "v": 7.0, "t": i} for i in range(1001)]),
    "integer_400_digits": lambda: b'{"readings": {"ec": 1%s}, "ts": %d}' % (b"0" * 400, T),
    "utf16": lambda: '{"readings": {"ph": 7.0}}'.encode("utf-16"),
}


def _nest(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


@dataclass(frozen=True)
class Case:
    """One corpus entry, made concrete for a village."""

    name: str
    index: int
    village: str
    """The village of the case's board (its topic may name another)."""
    channel: str
    topic: str
    payload: bytes
    expect: tuple[str, ...]
    stored: dict[str, list[float]] = field(default_factory=dict)
    at: str = "device"
    online: bool | None = None
    delivered: bool = True
    broker_refuses: bool = False

    @property
    def device(self) -> str:
        return device_id(self.index)

    @property
    def reaches_ingestor(self) -> bool:
        return self.delivered and not self.broker_refuses


def device_id(index: int) -> str:
    return f"h{index:03d}"


UNKNOWN_DEVICE = "ghost-01"


def load_cases(village: str, other: str) -> list[Case]:
    """Every case, each on a device of its own registered in `village`."""
    raw = tomllib.loads(CORPUS.read_text(encoding="utf-8"))["case"]
    return [_case(index, entry, village, other) for index, entry in enumerate(raw)]


def _case(index: int, entry: dict[str, Any], village: str, other: str) -> Case:
    channel = entry.get("channel", "telemetry")
    names = {"{village}": village, "{other}": other, "{device}": device_id(index), "{unknown}": UNKNOWN_DEVICE}
    topic = entry.get("topic", "village/{village}/{device}/" + channel)
    for placeholder, value in names.items():
        topic = topic.replace(placeholder, value)
    stored = {q: v if isinstance(v, list) else [v] for q, v in entry.get("stored", {}).items()}
    return Case(
        name=entry["name"],
        index=index,
        village=village,
        channel=channel,
        topic=topic,
        payload=_payload(entry),
        expect=tuple(sorted(entry.get("expect", []))),
        stored={q: [float(x) for x in v] for q, v in stored.items()},
        at=entry.get("at", "device"),
        online=entry.get("online"),
        delivered=entry.get("delivered", True),
        broker_refuses=entry.get("broker_refuses", False),
    )


def _payload(entry: dict[str, Any]) -> bytes:
    if "recipe" in entry:
        return _RECIPES[entry["recipe"]]()
    if "payload_hex" in entry:
        return bytes.fromhex(entry["payload_hex"])
    text = str(entry["payload"]).replace("{T}", str(T)).replace("{T1}", str(T + 1))
    return text.encode("utf-8", errors="surrogatepass")


def registry(village: str, other: str, cases: list[Case]) -> Registry:
    """Both villages, and every case's device in `village`."""
    return Registry(
        villages=(
            Village(id=village, name="Làng thử độc", lat=11.1, lon=106.6),
            Village(id=other, name="Làng bên", lat=11.2, lon=106.7),
        ),
        devices=tuple(
            RegisteredDevice(id=c.device, village=village, kind="water", name=c.name[:120], lat=11.1, lon=106.6)
            for c in cases
        ),
    )
