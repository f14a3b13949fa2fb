"""The live progress display (rich): sent, acknowledged, rate, errors, in flight, buffered, per kind."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from types import TracebackType

from rich.console import Console
from rich.live import Live
from rich.table import Table


@dataclass
class Snapshot:
    """Counters at one moment, per kind (label)."""

    sent: Counter[str] = field(default_factory=Counter)
    acknowledged: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    in_flight: int = 0
    buffered: Counter[str] = field(default_factory=Counter)
    links: int = 0
    sim_ms: int | None = None


class ProgressDisplay:
    """A table refreshed in place on a terminal; silent elsewhere (logs and tests)."""

    def __init__(self, title: str, *, console: Console | None = None, enabled: bool = True) -> None:
        self._title = title
        self._console = console or Console(stderr=True)
        self._enabled = enabled and self._console.is_terminal
        self._live: Live | None = None
        self._started_s = time.monotonic()
        self._last: tuple[float, int] = (self._started_s, 0)
        self._rate = 0.0

    def __enter__(self) -> ProgressDisplay:
        if self._enabled:
            self._live = Live(console=self._console, refresh_per_second=4, transient=False)
            self._live.__enter__()
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None) -> None:
        if self._live is not None:
            self._live.__exit__(kind, value, tb)
            self._live = None

    def update(self, snapshot: Snapshot) -> None:
        """Show the latest counters (computes the send rate since the previous update)."""
        now = time.monotonic()
        total = sum(snapshot.sent.values())
        then, before = self._last
        if now - then >= 0.5:
            self._rate = (total - before) / (now - then)
            self._last = (now, total)
        if self._live is not None:
            self._live.update(self.table(snapshot))

    def table(self, snapshot: Snapshot) -> Table:
        table = Table(title=self._title, caption=self._caption(snapshot))
        for column in ("kind", "sent", "acknowledged", "errors", "buffered"):
            table.add_column(column, justify="right" if column != "kind" else "left")
        kinds = sorted(set(snapshot.sent) | set(snapshot.buffered))
        for kind in kinds:
            table.add_row(
                kind or "-",
                f"{snapshot.sent[kind]:,}",
                f"{snapshot.acknowledged[kind]:,}",
                f"{snapshot.errors[kind]:,}",
                f"{snapshot.buffered[kind]:,}",
            )
        table.add_row(
            "total",
            f"{sum(snapshot.sent.values()):,}",
            f"{sum(snapshot.acknowledged.values()):,}",
            f"{sum(snapshot.errors.values()):,}",
            f"{sum(snapshot.buffered.values()):,}",
            style="bold",
        )
        return table

    def _caption(self, snapshot: Snapshot) -> str:
        elapsed = time.monotonic() - self._started_s
        parts = [f"{self._rate:,.0f} msg/s", f"in flight {snapshot.in_flight:,}", f"{snapshot.links:,} connections"]
        if snapshot.sim_ms is not None:
            parts.append(f"simulated {time.strftime('%Y-%m-%d %H:%M', time.gmtime(snapshot.sim_ms / 1000))} UTC")
        parts.append(f"{elapsed:,.0f} s")
        return " · ".join(parts)
