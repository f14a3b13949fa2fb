"""The disk spool: batches InfluxDB could not take, in append-only segment files, fsynced before the ack.

Layout: `DIR/00000000000000000001.seg`, ... Each record is `b"VSP1"`, a little-endian u32 body length, the
u32 CRC-32 of the body, then the body (orjson; see SpoolRecord). Appends go to the newest (active) segment; the
replayer reads the oldest sealed segment record by record and deletes a segment once all of it is in InfluxDB.
A crash leaves at most a torn record at the end of the active segment; its messages were never acknowledged
(the ack follows the fsync), so it is skipped. A record whose checksum fails is never deleted: its segment is
moved to `DIR/corrupt/` for an operator, and the problem is logged as an error.
"""

from __future__ import annotations

import base64
import errno
import logging
import os
import struct
import threading
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import orjson

from ingest.errors import SpoolFull
from ingest.messages import InboundMessage

logger = logging.getLogger(__name__)

MAGIC = b"VSP1"
_HEADER = struct.Struct("<4sII")
_SUFFIX = ".seg"


@dataclass(frozen=True, slots=True)
class SpooledMessage:
    """Enough of an inbound message to record it as rejected if InfluxDB refuses its lines on replay."""

    topic: str
    payload: bytes
    received_ms: int
    retain: bool = False


@dataclass(frozen=True, slots=True)
class SpoolRecord:
    """One spooled batch: its lines, the message each line came from, those messages, and its place on disk."""

    lines: list[str]
    origins: list[int]
    messages: list[SpooledMessage]
    readings: int
    """Readings among the lines (for metrics: the rest are flags, status and link points)."""
    segment: int = 0
    end: int = 0
    """Offset just after this record in its segment."""

    def encode(self) -> bytes:
        """The record's framed bytes."""
        body = orjson.dumps(
            {
                "lines": "\n".join(self.lines),
                "origins": self.origins,
                "readings": self.readings,
                "messages": [
                    [m.topic, m.received_ms, base64.b64encode(m.payload).decode("ascii"), m.retain]
                    for m in self.messages
                ],
            }
        )
        return _HEADER.pack(MAGIC, len(body), zlib.crc32(body)) + body

    @classmethod
    def of_batch(
        cls, lines: list[str], origins: list[int], messages: Sequence[InboundMessage], *, readings: int
    ) -> SpoolRecord:
        """A record for a batch, keeping only the messages that have lines."""
        used = sorted(set(origins))
        renumber = {old: new for new, old in enumerate(used)}
        kept = [
            SpooledMessage(messages[i].topic, messages[i].payload, messages[i].received_ms, messages[i].retain)
            for i in used
        ]
        return cls(lines, [renumber[i] for i in origins], kept, readings)


def _decode_body(body: bytes, *, segment: int, end: int) -> SpoolRecord:
    data = orjson.loads(body)
    return SpoolRecord(
        lines=data["lines"].split("\n") if data["lines"] else [],
        origins=list(data["origins"]),
        messages=[SpooledMessage(t, base64.b64decode(p), int(ms), bool(r)) for t, ms, p, r in data["messages"]],
        readings=int(data["readings"]),
        segment=segment,
        end=end,
    )


class Spool:
    """Append-only segments under a disk quota; safe to append from one thread while another replays."""

    def __init__(self, directory: Path, *, max_bytes: int, segment_bytes: int) -> None:
        self._dir = directory
        self._max_bytes = max_bytes
        self._segment_bytes = segment_bytes
        self._lock = threading.Lock()
        self._appended = threading.Condition(self._lock)
        directory.mkdir(parents=True, exist_ok=True)
        self._sealed = sorted(int(p.stem) for p in directory.glob(f"*{_SUFFIX}") if p.stem.isdigit())
        self._sizes = {n: self._path(n).stat().st_size for n in self._sealed}
        self._active: BinaryIO | None = None
        self._active_number = (self._sealed[-1] if self._sealed else 0) + 1
        self._reader: tuple[int, BinaryIO] | None = None
        if self._sealed:
            logger.info("spool %s holds %d bytes from before; replaying it", directory, self.bytes)

    @property
    def bytes(self) -> int:
        """Bytes on disk (sealed and active segments)."""
        return sum(self._sizes.values())

    @property
    def segments(self) -> int:
        return len(self._sizes)

    def __bool__(self) -> bool:
        """Whether anything waits to be replayed."""
        return self.bytes > 0

    def append(self, record: SpoolRecord) -> int:
        """Append and fsync one record; returns its size.

        Raises:
            SpoolFull: the quota would be exceeded or the disk is full; nothing was appended.
        """
        data = record.encode()
        with self._lock:
            if self.bytes + len(data) > self._max_bytes:
                raise SpoolFull(f"spool quota of {self._max_bytes} bytes reached ({self.bytes} used)")
            active = self._open_active()
            start = active.tell()
            try:
                active.write(data)
                active.flush()
                os.fsync(active.fileno())
            except OSError as exc:
                active.truncate(start)
                if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                    raise SpoolFull(f"disk full under {self._dir}: {exc}") from exc
                raise
            self._sizes[self._active_number] = start + len(data)
            if start + len(data) >= self._segment_bytes:
                self._seal()
            self._appended.notify_all()
        return len(data)

    def wait(self, timeout_s: float) -> bool:
        """Wait until something is spooled (or `timeout_s`); True if the spool is not empty."""
        with self._lock:
            if not self.bytes:
                self._appended.wait(timeout_s)
            return bool(self.bytes)

    def next_record(self) -> SpoolRecord | None:
        """The oldest record not yet committed, sealing the active segment if it is the only one left."""
        with self._lock:
            while True:
                if not self._sealed and self._active is not None:
                    self._seal()
                if not self._sealed:
                    return None
                record = self._read_next(self._sealed[0])
                if record is not None:
                    return record
                self._drop_oldest()

    def commit(self, record: SpoolRecord) -> None:
        """`record` is in InfluxDB (or recorded as rejected): delete its segment when it was the last one."""
        with self._lock:
            if self._sealed and self._sealed[0] == record.segment and record.end >= self._sizes[record.segment]:
                self._drop_oldest()

    def close(self) -> None:
        with self._lock:
            if self._active is not None:
                self._active.close()
                self._active = None
            if self._reader is not None:
                self._reader[1].close()
                self._reader = None

    def _path(self, number: int) -> Path:
        return self._dir / f"{number:020d}{_SUFFIX}"

    def _open_active(self) -> BinaryIO:
        if self._active is None:
            self._active = self._path(self._active_number).open("ab")
            _fsync_directory(self._dir)
        return self._active

    def _seal(self) -> None:
        if self._active is not None:
            self._active.close()
            self._active = None
            self._sealed.append(self._active_number)
            self._active_number += 1

    def _read_next(self, number: int) -> SpoolRecord | None:
        """The next record of segment `number`, or None at its end (torn or corrupt records end it too)."""
        if self._reader is None or self._reader[0] != number:
            if self._reader is not None:
                self._reader[1].close()
            self._reader = (number, self._path(number).open("rb"))
        reader = self._reader[1]
        header = reader.read(_HEADER.size)
        if not header:
            return None
        magic, length, crc = _HEADER.unpack(header) if len(header) == _HEADER.size else (MAGIC, 0, 0)
        body = reader.read(length) if magic == MAGIC else b""
        if magic == MAGIC and length and len(body) == length and zlib.crc32(body) == crc:
            return _decode_body(body, segment=number, end=reader.tell())
        if (
            magic == MAGIC
            and reader.tell() == self._sizes[number]
            and (len(header) < _HEADER.size or len(body) < length)
        ):
            logger.warning("spool segment %d ends with a torn record (a crash mid-append); skipped", number)
            return None
        self._quarantine(number)
        return None

    def _quarantine(self, number: int) -> None:
        corrupt = self._dir / "corrupt"
        corrupt.mkdir(exist_ok=True)
        if self._reader is not None and self._reader[0] == number:
            self._reader[1].close()
            self._reader = None
        self._path(number).rename(corrupt / self._path(number).name)
        logger.error(
            "spool segment %d is corrupt; moved to %s (records after the damage are not replayed)", number, corrupt
        )
        self._sizes[number] = 0

    def _drop_oldest(self) -> None:
        number = self._sealed.pop(0)
        if self._reader is not None and self._reader[0] == number:
            self._reader[1].close()
            self._reader = None
        self._path(number).unlink(missing_ok=True)
        del self._sizes[number]


def _fsync_directory(directory: Path) -> None:
    """Make a new file's directory entry durable too."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
