"""The live display shows sent, acknowledged, errors and buffered per kind, with the rate in the caption."""

from __future__ import annotations

import io
from collections import Counter

from rich.console import Console

from simulators.progress import ProgressDisplay, Snapshot


def test_the_table_has_a_row_per_kind_and_a_total() -> None:
    console = Console(file=io.StringIO(), width=120, force_terminal=False)
    display = ProgressDisplay("load", console=console)
    snapshot = Snapshot(
        sent=Counter(water=1200, air=800),
        acknowledged=Counter(water=1190, air=800),
        errors=Counter(air=1),
        in_flight=10,
        buffered=Counter(agri=42),
        links=3,
    )
    display.update(snapshot)
    console.print(display.table(snapshot))
    text = console.file.getvalue()
    for expected in ("water", "1,200", "1,190", "agri", "42", "total", "2,000", "1,990", "in flight 10", "msg/s"):
        assert expected in text
