"""Message accounting from `seq`: gaps are lost once, late arrivals are taken back, wraps and reboots are known."""

from __future__ import annotations

from ingest.link import MAX_GAP, SEQ_MODULO, SeqTracker


def observe(tracker: SeqTracker, seqs: list[int], *, series: int = 0, redelivered: frozenset[int] = frozenset()):
    return tracker.observe([series] * len(seqs), seqs, redelivered)


def test_consecutive_messages_report_nothing() -> None:
    tracker = SeqTracker()
    report = observe(tracker, list(range(100)))
    assert (report.lost, report.duplicated, report.reboots) == (0, 0, 0)
    assert not any(d.eventful for d in report.devices.values())


def test_a_gap_is_lost_once_and_a_late_arrival_takes_it_back() -> None:
    tracker = SeqTracker()
    first = observe(tracker, [1, 2, 5, 6])
    assert first.lost == 2 and first.devices[0].lost == 2 and first.devices[0].seq == 6
    late = observe(tracker, [3, 7])
    assert (late.lost, late.late) == (-1, 1)
    again = observe(tracker, [3, 4])  # 3 is now a duplicate, 4 arrives late
    assert (again.duplicated, again.lost, again.late) == (1, -1, 1)
    assert first.lost + late.lost + again.lost == 0
    assert (first.gaps, late.gaps + again.gaps, late.late + again.late) == (2, 0, 2)  # what the metrics count


def test_redelivery_by_the_broker_is_not_the_device_sending_twice() -> None:
    tracker = SeqTracker()
    observe(tracker, [10, 11, 12])
    report = observe(tracker, [11, 12, 12], redelivered=frozenset({0, 1}))
    assert (report.redelivered, report.duplicated, report.lost) == (2, 1, 0)


def test_the_counter_wraps_without_loss() -> None:
    tracker = SeqTracker()
    report = observe(tracker, [SEQ_MODULO - 2, SEQ_MODULO - 1, 0, 1])
    assert (report.lost, report.reboots) == (0, 0)
    gap = observe(tracker, [SEQ_MODULO - 1], series=1)
    gap = observe(tracker, [2], series=1)
    assert gap.lost == 2  # 0 and 1


def test_a_counter_back_near_zero_is_a_reboot_not_a_loss() -> None:
    tracker = SeqTracker()
    observe(tracker, list(range(5000, 5100)))
    report = observe(tracker, [0, 1, 2])
    assert (report.reboots, report.lost, report.duplicated) == (1, 0, 0)
    assert report.devices[0].reboot == 1


def test_a_jump_beyond_the_plausible_gap_is_a_reset() -> None:
    tracker = SeqTracker()
    observe(tracker, [100])
    report = observe(tracker, [100 + MAX_GAP + 5])
    assert (report.reboots, report.lost) == (1, 0)


def test_devices_are_counted_separately() -> None:
    tracker = SeqTracker()
    report = tracker.observe([1, 2, 1, 2], [1, 1, 3, 2], frozenset())
    assert report.devices[1].lost == 1
    assert 2 not in report.devices or not report.devices[2].eventful
