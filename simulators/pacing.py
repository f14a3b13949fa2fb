"""Simulated time against the wall clock: real time, accelerated, or as fast as possible (backfill).

Accelerated time never runs ahead of the real clock: a sample dated in the future would not be believed
(more than five minutes ahead is discarded by the ingestor), so `--start -1d --speed 60` replays the last
day in 24 minutes and then carries on in real time.
"""

from __future__ import annotations

import time
from collections.abc import Callable


def epoch_ms() -> int:
    """Wall-clock time in integer milliseconds UTC."""
    return time.time_ns() // 1_000_000


class Pacer:
    """When a simulated instant may happen on the wall clock."""

    def __init__(self, *, start_sim_ms: int, speed: float | None, wall_ms: Callable[[], int] = epoch_ms) -> None:
        """`speed` None: as fast as possible; 1: real time; 60: a simulated hour per minute."""
        self.start_sim_ms = start_sim_ms
        self.speed = speed
        self._wall_ms = wall_ms
        self._wall_start_ms = wall_ms()

    def wall_ms(self) -> int:
        return self._wall_ms()

    def seconds_until(self, sim_ms: int) -> float:
        """How long to wait before simulated time `sim_ms` may happen (0 when it is due)."""
        if self.speed is None:
            return 0.0
        due_ms = max(self._wall_start_ms + (sim_ms - self.start_sim_ms) / self.speed, sim_ms)
        return max(0.0, (due_ms - self._wall_ms()) / 1000)

    def sim_now(self) -> int:
        """The simulated time that is due now (for the end of a paced run)."""
        if self.speed is None:
            return self.start_sim_ms
        elapsed = (self._wall_ms() - self._wall_start_ms) * self.speed
        return min(int(self.start_sim_ms + elapsed), max(self._wall_ms(), self.start_sim_ms))
