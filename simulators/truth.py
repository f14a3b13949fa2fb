"""The ground-truth log: every message the simulator sent, as JSON lines, so tests can compute expectations."""

from __future__ import annotations

from pathlib import Path
from types import TracebackType
from typing import IO

import orjson


class TruthLog:
    """Append-only JSON lines: `{"topic", "payload", "sent_ms", ...}` per published message."""

    def __init__(self, path: Path | None) -> None:
        self._file: IO[bytes] | None = None
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._file = path.open("ab")

    def record(self, topic: str, payload: bytes, *, sent_ms: int, **facts: object) -> None:
        """Log one published message; `payload` is kept verbatim (as text) so malformed ones survive."""
        if self._file is None:
            return
        entry = {"topic": topic, "payload": payload.decode("utf-8", errors="replace"), "sent_ms": sent_ms, **facts}
        self._file.write(orjson.dumps(entry) + b"\n")

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


def read_truth(path: Path) -> list[dict[str, object]]:
    """All entries of a ground-truth log."""
    return [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]
