"""(g) mosquitto SIGKILLed and its persistence file lost with it: where the guarantee ends, measured.

A message lives only in the broker between the PUBACK it gives the board (the board forgets it) and the moment
the ingestor has it; a broker that dies without saving, and comes back without its file, has forgotten that
message, the ingestor's session and its queue. This scenario does not assert lost = 0: it asserts what may be lost
and what may not —

- only readings published around the crash: from shortly before the kill until the ingestor has subscribed again
  (a broker that forgot the session has no subscriber to queue for until then), never one before or after;
- nothing invented, nothing corrupted: every point stored is a predicted point with its value;
- the ingestor notices the broker forgot its session and subscribes again (everything after the restart is stored);
- every rejection stored is one the prediction expects, with its reasons.

The figures (how much a crash costs at this rate) go to RELIABILITY.md.
"""

from __future__ import annotations

import time

from tests.chaos.accounting import ledger, match_rejections, stored_points
from tests.chaos.harness import Ingestor, Simulation, Stack, fleet_toml, profile, rejected_entries, write_artifact
from tests.chaos.outcome import settle
from tests.helpers import eventually

WINDOW_MS = 3_000
"""How far before the kill a lost reading may have been published (the broker held it at most this long)."""


def test_mosquitto_crash_without_its_persistence_file_loses_only_the_crash_window(stack: Stack) -> None:
    run = profile()
    started_s = time.monotonic()
    scenario = stack.write_scenario(fleet_toml(stack.village, interval_s=run.interval_s))
    ingestor = Ingestor(stack, f"ingest-{stack.village}").start()
    simulation = Simulation(stack, scenario, seconds=run.stream_s)
    eventually(lambda: ingestor.metric("village_ingest_readings_stored_total") > 500, timeout_s=30, what="flowing")
    killed_ms = time.time_ns() // 1_000_000
    stack.broker.crash(lose_persistence=True)
    back_ms = time.time_ns() // 1_000_000
    eventually(lambda: ingestor.metric("village_ingest_broker_connected") == 1, timeout_s=30, what="reconnected")
    subscribed_ms = time.time_ns() // 1_000_000  # until now, boards published to a broker with no subscriber
    simulation.wait(timeout_s=run.stream_s + 60)
    book = ledger(simulation.truth())
    settle(stack, book, [ingestor], timeout_s=30)
    assert not book.prediction.ambiguous, book.prediction.ambiguous

    stored = stored_points(stack.influxdb.url, stack.database, book.prediction)
    assert not stored.receive_time, f"points nobody published: {list(stored.receive_time.items())[:5]}"
    wrong = {k: v for k, v in stored.timed.items() if book.prediction.points[k] != v}
    assert not wrong, f"points stored with another value: {list(wrong.items())[:5]}"
    missing = [k for k in book.prediction.points if k not in stored.timed]
    outside = [k for k in missing if not killed_ms - WINDOW_MS <= k[2] <= subscribed_ms]
    assert not outside, f"{len(outside)} readings lost outside the crash window, e.g. {outside[:5]}"

    rejected = match_rejections(book, rejected_entries(stack))
    assert not rejected.mismatched, rejected.mismatched[:10]
    assert not rejected.unexplained, rejected.unexplained[:10]
    in_window = sum(
        1 for m in book.messages if m.reasons and killed_ms - WINDOW_MS <= int(m.entry["sent_ms"]) <= subscribed_ms
    )
    assert len(rejected.missing) <= in_window, "rejections lost outside the crash window"

    figures = {
        "scenario": "broker-crash-no-persistence",
        "published": book.published,
        "stored": len(stored.timed),
        "rejected": rejected.rejections,
        "collapsed": book.collapsed,
        "lost": len(missing),
        "lost rejections": len(rejected.missing),
        "seconds": time.monotonic() - started_s,
        "messages": len(book.messages),
        "broker down ms": back_ms - killed_ms,
        "until subscribed again ms": subscribed_ms - killed_ms,
        "seq gaps seen": ingestor.metric("village_ingest_seq_events_total", event="gap"),
        "profile": run.name,
    }
    print("chaos " + ", ".join(f"{k} {v:.0f}" if isinstance(v, float) else f"{k} {v}" for k, v in figures.items()))
    write_artifact("broker-crash-no-persistence", figures)
    after = [k for k in book.prediction.points if k[2] > subscribed_ms + 2_000]
    assert after and all(k in stored.timed for k in after), "nothing stored after the broker came back"
    assert ingestor.stop() == 0
