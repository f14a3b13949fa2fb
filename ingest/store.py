"""Making lines durable: InfluxDB when it answers, the disk spool when it does not.

InfluxDB's 400 means some lines are refused (a field type conflict, say) while the valid ones of the same request
were stored; bisecting the batch finds the refused lines, and rewriting the others is harmless (same points).
Every other failure is InfluxDB's or the configuration's, never the data's: the lines go to the spool.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from ingest.errors import InfluxRefused, InfluxUnavailable, SpoolFull
from ingest.messages import InboundMessage
from ingest.spool import Spool, SpoolRecord

logger = logging.getLogger(__name__)


class PointWriter(Protocol):
    """Where lines go (InfluxWriter in production)."""

    def write(self, lines: Sequence[str]) -> None: ...


def write_isolating(writer: PointWriter, lines: Sequence[str]) -> list[int]:
    """Write every line InfluxDB will take; return the indexes of those it refuses.

    Raises:
        InfluxUnavailable: InfluxDB is down; nothing can be assumed stored.
        InfluxRefused: a refusal that is not about the lines (401, 403, 404): a configuration problem.
    """
    try:
        writer.write(lines)
    except InfluxRefused as exc:
        if not exc.blames_lines:
            raise
        refused = _bisect(writer, lines, list(range(len(lines))))
        logger.warning("InfluxDB refused %d of %d lines: %s", len(refused), len(lines), exc.body[:200])
        return refused
    return []


def _bisect(writer: PointWriter, lines: Sequence[str], indexes: list[int]) -> list[int]:
    if len(indexes) == 1:
        return indexes
    refused: list[int] = []
    middle = len(indexes) // 2
    for half in (indexes[:middle], indexes[middle:]):
        try:
            writer.write([lines[i] for i in half])
        except InfluxRefused as exc:
            if not exc.blames_lines:
                raise
            refused.extend(_bisect(writer, lines, half))
    return refused


class InfluxHealth:
    """Shared by the live path and the spool replayer: is InfluxDB taking writes? Logs each change once."""

    def __init__(self) -> None:
        self._down = threading.Event()

    @property
    def down(self) -> bool:
        return self._down.is_set()

    def mark_down(self, exc: Exception) -> None:
        if not self._down.is_set():
            self._down.set()
            logger.error("%s; spooling to disk until it takes writes again", exc)

    def mark_up(self) -> None:
        if self._down.is_set():
            self._down.clear()
            logger.info("InfluxDB takes writes again; live batches go to it directly, the spool is replayed")


@dataclass(frozen=True, slots=True)
class Stored:
    """Where a batch's lines went."""

    refused: list[int]
    """Indexes of lines InfluxDB refused (only when written to InfluxDB)."""
    spooled_bytes: int = 0
    """Size of the spool record when the lines went to the spool instead."""
    write_s: float | None = None


class DurableStore:
    """Stores a batch's lines in InfluxDB or the spool, or holds them (backpressure) while both are impossible."""

    def __init__(
        self,
        writer: PointWriter,
        spool: Spool,
        health: InfluxHealth,
        *,
        retry_max_s: float = 10.0,
        clock_s: Callable[[], float] = time.monotonic,
        on_hold: Callable[[int], None] = lambda _held: None,
    ) -> None:
        self._writer = writer
        self._spool = spool
        self._health = health
        self._retry_max_s = retry_max_s
        self._clock_s = clock_s
        self._on_hold = on_hold

    def store(
        self,
        lines: list[str],
        origins: list[int],
        messages: Sequence[InboundMessage],
        *,
        readings: int,
        stop: threading.Event,
    ) -> Stored | None:
        """Return once the lines are durable; None if `stop` was set while they could not be (do not ack)."""
        if not lines:
            return Stored([])
        delay_s = 0.5
        probe = not self._health.down
        holding = False
        try:
            while True:
                if probe:
                    stored = self._write(lines)
                    if stored is not None:
                        return stored
                try:
                    size = self._spool.append(SpoolRecord.of_batch(lines, origins, messages, readings=readings))
                except SpoolFull as exc:
                    if not holding:
                        holding = True
                        self._on_hold(len(messages))
                        logger.error(
                            "%s: holding %d messages unacknowledged; the broker keeps the rest", exc, len(messages)
                        )
                else:
                    return Stored([], spooled_bytes=size)
                if stop.wait(delay_s):
                    return None
                delay_s = min(delay_s * 2, self._retry_max_s)
                probe = True  # the spool is full: try InfluxDB itself again
        finally:
            if holding:
                self._on_hold(0)

    def _write(self, lines: list[str]) -> Stored | None:
        started_s = self._clock_s()
        try:
            refused = write_isolating(self._writer, lines)
        except (InfluxUnavailable, InfluxRefused) as exc:
            self._health.mark_down(exc)
            return None
        self._health.mark_up()
        return Stored(refused, write_s=self._clock_s() - started_s)
