"""The ingestor's own numbers: Prometheus metrics (`--metrics-port`), plain totals, and the one-minute summary.

Every instance has its own CollectorRegistry, so several ingestors can run in one process (tests) without
clashing. Counters are updated once per batch, never per reading; per-reading distributions (end-to-end lag)
are binned with NumPy into a histogram exposed through a custom collector.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass, replace

import numpy as np
import numpy.typing as npt
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.metrics_core import HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

logger = logging.getLogger(__name__)

PREFIX = "village_ingest"
LAG_BUCKETS_S = (0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 6 * 3600, 24 * 3600, 7 * 24 * 3600)
BATCH_BUCKETS = (1, 10, 50, 100, 250, 500, 1000, 2000, 5000, 10_000, 20_000, 65_535)
WRITE_BUCKETS_S = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)


class BulkHistogram(Collector):
    """A Prometheus histogram fed a whole NumPy array at a time."""

    def __init__(self, name: str, documentation: str, buckets: tuple[float, ...], registry: CollectorRegistry) -> None:
        self._name = name
        self._documentation = documentation
        self._bounds = np.array(buckets, dtype=np.float64)
        self._counts = np.zeros(len(buckets) + 1, dtype=np.int64)
        self._sum = 0.0
        self._lock = threading.Lock()
        registry.register(self)

    def observe_many(self, values: npt.NDArray[np.float64]) -> None:
        if not len(values):
            return
        binned = np.bincount(np.searchsorted(self._bounds, values, side="left"), minlength=len(self._counts))
        with self._lock:
            self._counts += binned
            self._sum += float(values.sum())

    def collect(self) -> Iterator[Metric]:
        with self._lock:
            cumulative = np.cumsum(self._counts).tolist()
            total = self._sum
        buckets = [(f"{bound:g}", count) for bound, count in zip(self._bounds.tolist(), cumulative, strict=False)]
        buckets.append(("+Inf", cumulative[-1]))
        yield HistogramMetricFamily(self._name, self._documentation, buckets=buckets, sum_value=total)


@dataclass
class IngestCounters:
    """Running totals since start; the summary logs their change every minute."""

    messages: int = 0
    readings: int = 0
    stored: int = 0
    """Readings written to InfluxDB, live or replayed from the spool."""
    spooled: int = 0
    replayed: int = 0
    rejected: int = 0
    collapsed: int = 0
    flagged: int = 0
    acked: int = 0
    batches: int = 0
    lost: int = 0
    duplicated: int = 0
    reboots: int = 0
    redelivered: int = 0
    statuses: int = 0
    unregistered: int = 0
    notices_dropped: int = 0
    lag_ms_sum: int = 0
    lag_samples: int = 0
    write_ms_sum: int = 0
    writes: int = 0


class IngestMetrics:
    """Prometheus metrics of one ingestor, plus IngestCounters for logs and tests."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry(auto_describe=True)
        self.counters = IngestCounters()
        self._lock = threading.Lock()
        r = self.registry
        self.messages = Counter(f"{PREFIX}_messages", "Messages received, by channel", ["channel"], registry=r)
        self.readings = Counter(f"{PREFIX}_readings", "Readings received (before validation)", registry=r)
        self.stored = Counter(
            f"{PREFIX}_readings_stored", "Readings written to InfluxDB (live or replayed)", registry=r
        )
        self.spooled = Counter(f"{PREFIX}_readings_spooled", "Readings appended to the disk spool", registry=r)
        self.replayed = Counter(f"{PREFIX}_readings_replayed", "Spooled readings written to InfluxDB", registry=r)
        self.rejected = Counter(
            f"{PREFIX}_rejected", "Rejections (a reading, an array element or a whole message), by reason", ["reason"],
            registry=r,
        )  # fmt: skip
        self.flagged = Counter(f"{PREFIX}_readings_flagged", "Stored readings flagged, by flag", ["flag"], registry=r)
        self.collapsed = Counter(f"{PREFIX}_duplicates_collapsed", "Identical repeated readings in a batch", registry=r)
        self.acked = Counter(f"{PREFIX}_messages_acked", "Messages acknowledged to the broker", registry=r)
        self.batch = Histogram(f"{PREFIX}_batch_messages", "Messages per batch", buckets=BATCH_BUCKETS, registry=r)
        self.write = Histogram(
            f"{PREFIX}_write_seconds", "Duration of a live InfluxDB write", buckets=WRITE_BUCKETS_S, registry=r
        )
        self.lag = BulkHistogram(
            f"{PREFIX}_lag_seconds", "Stored minus device time, readings with a credible clock", LAG_BUCKETS_S, r
        )
        self.link = Counter(
            f"{PREFIX}_seq_events",
            "Message accounting from device seq: gap (a skipped counter value), late (a skipped one that came "
            "after all; net lost = gap - late), duplicated, reboot, redelivered (MQTT DUP of a message seen)",
            ["event"], registry=r,
        )  # fmt: skip
        self.statuses = Counter(f"{PREFIX}_status_points", "Status changes stored", registry=r)
        self.status_repeats = Counter(
            f"{PREFIX}_status_retained_repeats", "Retained statuses already stored", registry=r
        )
        self.status_clears = Counter(
            f"{PREFIX}_status_retained_clears", "Empty status messages: a retained status was deleted", registry=r
        )
        self.unregistered = Counter(
            f"{PREFIX}_readings_unregistered", "Stored readings of unregistered devices", registry=r
        )
        self.notices = Counter(
            f"{PREFIX}_rejection_notices", "Notices to .../rejected, by result", ["result"], registry=r
        )
        self.holding = Gauge(
            f"{PREFIX}_held_messages",
            "Messages held unacknowledged while InfluxDB and the spool both refuse",
            registry=r,
        )

    def watch(self, name: str, documentation: str, read: Callable[[], float]) -> None:
        """A gauge read when scraped (spool bytes, broker connected, ...)."""
        Gauge(f"{PREFIX}_{name}", documentation, registry=self.registry).set_function(read)

    def snapshot(self) -> IngestCounters:
        with self._lock:
            return replace(self.counters)

    def count(self, **increments: int) -> None:
        """Add to the plain totals."""
        with self._lock:
            for name, value in increments.items():
                setattr(self.counters, name, getattr(self.counters, name) + value)

    def observe_lag(self, lag_ms: npt.NDArray[np.int64]) -> None:
        if not len(lag_ms):
            return
        self.lag.observe_many(lag_ms / 1000.0)
        with self._lock:
            c = self.counters
            c.lag_ms_sum += int(lag_ms.sum())
            c.lag_samples += len(lag_ms)

    @staticmethod
    def totals_by_label(counter: Counter, label: str) -> dict[str, float]:
        """A labelled counter's running totals, by the value of `label`."""
        return {s.labels[label]: s.value for m in counter.collect() for s in m.samples if s.name.endswith("_total")}

    def count_labelled(self, counter: Counter, by_label: Mapping[str, int]) -> None:
        for label, value in by_label.items():
            if value:
                counter.labels(label).inc(value)


def summary_line(
    before: IngestCounters, now: IngestCounters, *, seconds: float, spool_bytes: int, connected: bool
) -> str:
    """One INFO line about the last period: what came in, where it went, how late, and the state of things."""
    d = {k: v - asdict(before)[k] for k, v in asdict(now).items()}
    lag = f"{d['lag_ms_sum'] / d['lag_samples'] / 1000:.1f} s" if d["lag_samples"] else "n/a"
    return (
        f"last {seconds:.0f} s: {d['messages']} messages, {d['readings']} readings: {d['stored']} stored "
        f"({d['replayed']} from the spool), {d['spooled']} spooled, {d['rejected']} rejections, "
        f"{d['flagged']} flagged; seq lost {d['lost']}, duplicated {d['duplicated']}; mean lag {lag}; "
        f"spool {spool_bytes} bytes; broker {'connected' if connected else 'DISCONNECTED'}"
    )
