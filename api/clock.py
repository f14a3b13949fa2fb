"""The API's clock as a dependency, so tests can pin "now" (time is integer ms UTC)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request


def epoch_ms() -> int:
    """Wall-clock time in integer milliseconds."""
    return time.time_ns() // 1_000_000


def _now_ms(request: Request) -> int:
    clock: Callable[[], int] = request.app.state.clock_ms
    return clock()


ClockDep = Annotated[int, Depends(_now_ms)]
"""The time of the request, epoch milliseconds."""
