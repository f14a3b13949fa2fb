"""Message accounting from the devices' `seq` counters: lost, duplicated and late messages, and reboots.

Per device the tracker keeps the highest counter seen and a window of which recent counters arrived. A jump
forward counts the skipped values as lost at once; if one of them arrives later (out of order) it is taken
back, so no message is ever counted lost twice or lost and received. The counter is a uint32 that wraps.
"""

from __future__ import annotations

from collections.abc import Container, Sequence
from dataclasses import dataclass, field

SEQ_MODULO = 2**32
WINDOW = 1024
"""How many recent counter values are remembered per device, to recognise duplicates and late arrivals."""
REBOOT_SEQ_MAX = 16
"""A counter that goes back by more than this, to at most this, restarted: the board rebooted (firmware starts
at 0 or 1). A counter that goes back further than the window is taken as a reset too."""
MAX_GAP = 2**20
"""A jump forward larger than this is a counter reset, not a million lost messages."""
_MASK = (1 << WINDOW) - 1


@dataclass
class LinkDelta:
    """What happened to one device's messages in one batch."""

    seq: int
    lost: int = 0
    duplicated: int = 0
    reboot: int = 0

    @property
    def eventful(self) -> bool:
        return bool(self.lost or self.duplicated or self.reboot)


@dataclass
class LinkReport:
    """Per-device deltas of a batch, and totals for metrics."""

    devices: dict[int, LinkDelta] = field(default_factory=dict)
    lost: int = 0
    """Net: skipped counter values (`gaps`) minus those that arrived late; negative when late ones dominate."""
    gaps: int = 0
    """Counter values skipped, counted when the jump is seen."""
    duplicated: int = 0
    reboots: int = 0
    late: int = 0
    redelivered: int = 0
    """Messages the broker delivered again (MQTT DUP) that we had already seen: not the device's doing."""


class SeqTracker:
    """Per-series highest `seq` and a bitmap of the last WINDOW values (bit i: highest - i arrived)."""

    def __init__(self) -> None:
        self._high: dict[int, int] = {}
        self._seen: dict[int, int] = {}

    def observe(self, series: Sequence[int], seqs: Sequence[int], redelivered: Container[int]) -> LinkReport:
        """Account for counter values in arrival order: `seqs[i]` of device `series[i]`.

        `redelivered` holds the positions `i` whose message the broker delivered again (MQTT DUP).
        """
        report = LinkReport()
        high, seen = self._high, self._seen
        for i, (one, seq) in enumerate(zip(series, seqs, strict=True)):
            last = high.get(one)
            if last is not None and (seq - last) % SEQ_MODULO == 1 and one not in report.devices:
                high[one] = seq  # the common case, inline: the next message, nothing to report
                seen[one] = ((seen[one] << 1) | 1) & _MASK
            else:
                self._observe(one, seq, i in redelivered, report)
        return report

    def _observe(self, series: int, seq: int, redelivered: bool, report: LinkReport) -> None:  # noqa: FBT001
        high = self._high.get(series)
        if high is None:
            self._restart(series, seq)
            return
        forward = (seq - high) % SEQ_MODULO
        if forward == 1:  # the common case: the next message, nothing to report
            self._high[series] = seq
            self._seen[series] = ((self._seen[series] << 1) | 1) & _MASK
            if series in report.devices:
                report.devices[series].seq = seq
            return
        delta = report.devices.get(series)
        if delta is None:
            delta = report.devices[series] = LinkDelta(seq)
        delta.seq = seq
        if 0 < forward < SEQ_MODULO // 2 and forward <= MAX_GAP:
            self._high[series] = seq
            self._seen[series] = ((self._seen[series] << forward) | 1) & _MASK
            delta.lost += forward - 1
            report.lost += forward - 1
            report.gaps += forward - 1
            return
        back = (high - seq) % SEQ_MODULO
        if back < WINDOW and self._seen[series] >> back & 1:
            if redelivered:
                report.redelivered += 1
            else:
                delta.duplicated += 1
                report.duplicated += 1
        elif seq <= REBOOT_SEQ_MAX < back or back >= WINDOW:
            self._restart(series, seq)
            delta.reboot += 1
            report.reboots += 1
        else:  # a message counted lost arrives after all
            self._seen[series] |= 1 << back
            delta.lost -= 1
            report.lost -= 1
            report.late += 1

    def _restart(self, series: int, seq: int) -> None:
        self._high[series] = seq
        self._seen[series] = 1
