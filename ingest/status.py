"""Device status (`online`/`offline`, retained, last will) → the `status` measurement, each state change once.

The broker hands a retained status to every new subscription. The ingestor subscribes with "retained only when
the subscription is new", and on top of that skips a retained status that repeats the state already stored, so
a reconnect or a restart never writes "online" again for a board that never went away.
"""

from __future__ import annotations

from collections.abc import Mapping


class StatusTracker:
    """The last stored state per series, seeded from InfluxDB at start-up."""

    def __init__(self, known: Mapping[int, bool] | None = None) -> None:
        self._last: dict[int, bool] = dict(known or {})

    def should_store(self, series: int, *, online: bool, retained: bool) -> bool:
        """Whether this status is news: live messages always are; a retained one only if the state changed."""
        if retained and self._last.get(series) is online:
            return False
        self._last[series] = online
        return True

    def seed(self, series: int, *, online: bool) -> None:
        """Remember a state stored before this process started."""
        self._last.setdefault(series, online)
