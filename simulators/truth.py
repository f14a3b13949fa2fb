"""The ground-truth log: every message the simulator sent, and every fault it injected, as JSON lines.

One line per event, in the order they happened. Format (stable; tests and tools rely on it):

    {"event": "publish",          # a message the simulator published (QoS 1)
     "topic": "village/an-tay/an-tay-water-01/telemetry",
     "payload": "{\"ts\": ...}",  # the payload verbatim, as UTF-8 text (malformed ones included)
     "sent_ms": 1764489600123,    # wall-clock time of the publish, epoch ms
     "sim_ms": 1764489600123,     # the board's simulated time (backfill/accelerated: differs from sent_ms)
     "device": "an-tay-water-01",
     "format": "native",          # native | senml | status
     "retain": false,
     "faults": [                  # what was injected into this message, enough to predict the outcome:
        {"kind": "nan", "quantity": "ph", "original": 6.42, "injected": "NaN"},
        {"kind": "out_of_range", "quantity": "turbidity", "original": 12.1, "injected": 1210.5},
        {"kind": "spike" | "stuck", "quantity": ..., "original": ..., "injected": ...},
        {"kind": "malformed_json", "cut": 57, "original_bytes": 180},
        {"kind": "duplicate"},    # a second publish of the previous payload (its payload faults repeated)
        {"kind": "wrong_unit", "quantity": "humidity", "unit": "Cel"},
        {"kind": "out_of_order", "seqs": [...]},
        {"kind": "dropout" | "buffer_overflow" | "brownout_lost", "seq": 41, "taken_ms": ...},  # never sent
        {"kind": "brownout", "at_ms": ...}, {"kind": "flooding", "hz": 20.0}]}
    {"event": "will", "topic": ".../status", "payload": "offline", "sent_ms": ..., "sim_ms": ...,
     "device": ..., "format": "status", "retain": true, "faults": [], "reason": "wifi_outage"}
                                  # the board vanished (Wi-Fi, brown-out, killed): the broker publishes its will

Faults of samples that were never sent (dropout, buffer overflow, brown-out) are attached to the next message
the board publishes. The prediction of what the pipeline stores and rejects is in prediction.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import orjson


class TruthLog:
    """Append-only JSON lines; a log without a path counts but writes nothing."""

    def __init__(self, path: Path | None) -> None:
        self._file: IO[bytes] | None = None
        self.lines = 0
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._file = path.open("ab")

    @property
    def enabled(self) -> bool:
        """Whether lines are written anywhere (callers may skip building them otherwise)."""
        return self._file is not None

    def record(self, topic: str, payload: bytes, *, sent_ms: int, event: str = "publish", **facts: object) -> None:
        """Log one event; `payload` is kept verbatim (as text) so malformed ones survive."""
        self.lines += 1
        if self._file is None:
            return
        entry: dict[str, object] = {
            "event": event,
            "topic": topic,
            "payload": payload.decode("utf-8", errors="replace"),
        }
        entry.update(sent_ms=sent_ms, **facts)
        self._file.write(orjson.dumps(entry) + b"\n")

    def flush(self) -> None:
        if self._file is not None:
            self._file.flush()

    def close(self) -> None:
        if self._file is not None:
            self._file.flush()
            self._file.close()
            self._file = None

    def __enter__(self) -> TruthLog:
        return self

    def __exit__(
        self, _type: type[BaseException] | None, _value: BaseException | None, _tb: TracebackType | None
    ) -> None:
        self.close()


def read_truth(path: Path) -> list[dict[str, Any]]:
    """All entries of a ground-truth log."""
    return list(iter_truth(path))


def iter_truth(path: Path) -> Iterator[dict[str, Any]]:
    """Entries of a ground-truth log, one at a time (logs of long runs are large)."""
    with path.open("rb") as file:
        for line in file:
            if line.strip():
                yield orjson.loads(line)


def published(entries: list[dict[str, Any]], *, channel: str | None = None) -> list[dict[str, Any]]:
    """The messages the simulator published (optionally of one channel: telemetry, senml, status)."""
    return [
        e
        for e in entries
        if e.get("event", "publish") == "publish" and (channel is None or str(e["topic"]).endswith("/" + channel))
    ]
