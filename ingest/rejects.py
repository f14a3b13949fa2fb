"""The rejected store: every message with a refused reading, raw, with its reasons, in rotated JSONL files.

`DIR/{instance}-{UTC start}-{n}.jsonl`: one JSON object per message (see `entry_of`), appended and fsynced before
the message is acknowledged. Each writer (ingestor instance, `village rejects replay`) has its own files, so
nobody shares a file; files are only appended to, rotated by size, and the oldest are deleted only beyond the
quota (with a warning). An entry's id is `{file stem}:{line number}`, stable forever.
`DIR/replayed.jsonl` lists the ids that `village rejects replay` re-ingested.
"""

from __future__ import annotations

import base64
import logging
import os
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

import orjson

from ingest.messages import InboundMessage
from ingest.samples import Rejection

logger = logging.getLogger(__name__)

LEDGER = "replayed.jsonl"
_SUFFIX = ".jsonl"
_UNSAFE_IN_NAME = re.compile(r"[^A-Za-z0-9_.-]")


def rejection_json(rejection: Rejection) -> dict[str, Any]:
    """A rejection as JSON: reason code, detail, and which reading or array element when it is one."""
    found: dict[str, Any] = {"reason": rejection.reason.value, "detail": rejection.detail}
    if rejection.quantity is not None:
        found["quantity"] = rejection.quantity
    if rejection.position is not None:
        found["position"] = rejection.position
    return found


def entry_of(
    message: InboundMessage, rejections: Sequence[Rejection], *, instance: str, time_ms: int
) -> dict[str, Any]:
    """The stored form of a message with refused readings: raw payload (text, or base64 when not UTF-8)."""
    entry: dict[str, Any] = {
        "time_ms": time_ms,
        "received_ms": message.received_ms,
        "instance": instance,
        "topic": message.topic,
        "retain": message.retain,
        "rejections": [rejection_json(r) for r in rejections],
    }
    try:
        entry["payload"] = message.payload.decode("utf-8")
    except UnicodeDecodeError:
        entry["payload_b64"] = base64.b64encode(message.payload).decode("ascii")
    return entry


def _describe(rejection: Rejection) -> str:
    where = f"[{rejection.position}]" if rejection.position is not None else ""
    what = f"{rejection.quantity!r}: " if rejection.quantity else ""  # repr: names may carry newlines
    return f"{where}{what}{rejection.reason.value} ({rejection.detail})"


def group_by_message(rejections: Sequence[Rejection]) -> dict[int, list[Rejection]]:
    """Rejections per message index, in message order."""
    grouped: dict[int, list[Rejection]] = {}
    for rejection in rejections:
        grouped.setdefault(rejection.message, []).append(rejection)
    return dict(sorted(grouped.items()))


class RejectedStore:
    """Appends entries durably; rotates at `file_bytes`, prunes the oldest files beyond `max_bytes`."""

    def __init__(
        self,
        directory: Path,
        *,
        instance: str,
        file_bytes: int = 16 * 2**20,
        max_bytes: int = 2**30,
        clock_ms: Callable[[], int] = lambda: time.time_ns() // 1_000_000,
    ) -> None:
        self._dir = directory
        self._instance = instance
        self._file_prefix = _UNSAFE_IN_NAME.sub("-", instance)[:64]
        self._file_bytes = file_bytes
        self._max_bytes = max_bytes
        self._clock_ms = clock_ms
        self._lock = threading.Lock()
        self._file: BinaryIO | None = None
        self._rotations = 0
        self.pruned_files = 0
        directory.mkdir(parents=True, exist_ok=True)

    def record(self, messages: Sequence[InboundMessage], rejections: Sequence[Rejection]) -> None:
        """Append one entry per message with rejections and fsync; returns only when they are durable.

        Raises:
            OSError: the disk refused (full, read-only): the caller must not acknowledge the messages.
        """
        now_ms = self._clock_ms()
        grouped = group_by_message(rejections)
        data = b"".join(
            orjson.dumps(entry_of(messages[i], found, instance=self._instance, time_ms=now_ms)) + b"\n"
            for i, found in grouped.items()
        )
        self.append_raw(data)
        for i, found in grouped.items():
            reasons = "; ".join(_describe(r) for r in found[:5])
            more = f" (+{len(found) - 5} more)" if len(found) > 5 else ""
            logger.warning("rejected from %r: %s%s", messages[i].topic[:160], reasons, more)

    def append_raw(self, data: bytes) -> None:
        """Append already encoded JSONL entries durably."""
        if not data:
            return
        with self._lock:
            file = self._current()
            start = file.tell()
            try:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            except OSError:
                file.truncate(start)
                raise
            if file.tell() >= self._file_bytes:
                file.close()
                self._file = None
                self._prune()

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None

    def _current(self) -> BinaryIO:
        if self._file is None:
            stamp = datetime.fromtimestamp(self._clock_ms() / 1000, UTC).strftime("%Y%m%dT%H%M%SZ")
            self._rotations += 1
            path = self._dir / f"{self._file_prefix}-{stamp}-{os.getpid()}-{self._rotations:04d}{_SUFFIX}"
            self._file = path.open("ab")
        return self._file

    def _prune(self) -> None:
        files = sorted(entry_files(self._dir), key=lambda p: p.stat().st_mtime_ns)
        total = sum(p.stat().st_size for p in files)
        for path in files:
            if total <= self._max_bytes:
                break
            size = path.stat().st_size
            path.unlink(missing_ok=True)
            total -= size
            self.pruned_files += 1
            logger.warning(
                "rejected store over its quota of %d bytes: deleted the oldest file %s", self._max_bytes, path
            )


def entry_files(directory: Path) -> list[Path]:
    """The store's entry files (not the replay ledger)."""
    if not directory.is_dir():
        return []
    return [p for p in directory.glob(f"*{_SUFFIX}") if p.name != LEDGER]


@dataclass(frozen=True, slots=True)
class StoredEntry:
    """An entry read back, with its id."""

    id: str
    data: dict[str, Any]

    @property
    def payload(self) -> bytes:
        if "payload_b64" in self.data:
            return base64.b64decode(self.data["payload_b64"])
        return str(self.data.get("payload", "")).encode("utf-8")

    @property
    def reasons(self) -> list[str]:
        return [str(r.get("reason")) for r in self.data.get("rejections", ())]


def read_entries(directory: Path) -> Iterator[StoredEntry]:
    """Every entry, oldest file first; lines that do not parse (a torn last line) are skipped with a warning."""
    for path in sorted(entry_files(directory), key=lambda p: (p.stat().st_mtime_ns, p.name)):
        with path.open("rb") as file:
            for number, line in enumerate(file, start=1):
                try:
                    data = orjson.loads(line)
                except orjson.JSONDecodeError:
                    logger.warning("%s line %d is not a JSON entry; skipped", path, number)
                    continue
                yield StoredEntry(f"{path.stem}:{number}", data)


def read_ledger(directory: Path) -> set[str]:
    """Ids of entries already replayed."""
    path = directory / LEDGER
    if not path.exists():
        return set()
    replayed = set()
    with path.open("rb") as file:
        for line in file:
            try:
                replayed.add(str(orjson.loads(line)["id"]))
            except (orjson.JSONDecodeError, KeyError, TypeError):
                continue
    return replayed


def append_ledger(directory: Path, entries: Sequence[dict[str, Any]]) -> None:
    """Record replayed ids durably."""
    if not entries:
        return
    with (directory / LEDGER).open("ab") as file:
        file.write(b"".join(orjson.dumps(e) + b"\n" for e in entries))
        file.flush()
        os.fsync(file.fileno())
