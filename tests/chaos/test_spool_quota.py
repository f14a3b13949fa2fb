"""(d) the spool's disk quota reached during an InfluxDB outage: backpressure (the broker keeps the rest), then
recovery when InfluxDB is back."""

from __future__ import annotations

import time

from tests.chaos.harness import Ingestor, Simulation, Stack, during, fleet_toml, profile
from tests.chaos.outcome import account
from tests.helpers import eventually

QUOTA_BYTES = 2**20  # the smallest quota the settings allow
HOLD_S = 6.0


def test_spool_quota_reached_holds_then_recovers(stack: Stack) -> None:
    run = profile()
    started_s = time.monotonic()
    scenario = stack.write_scenario(fleet_toml(stack.village, interval_s=run.interval_s / 2.5))
    ingestor = Ingestor(
        stack,
        f"ingest-{stack.village}",
        VILLAGE_INGEST_SPOOL_MAX_BYTES=str(QUOTA_BYTES),
        VILLAGE_INGEST_SPOOL_SEGMENT_BYTES=str(QUOTA_BYTES // 8),
    ).start()
    simulation = Simulation(stack, scenario, seconds=run.stream_s + 20)
    eventually(lambda: ingestor.metric("village_ingest_readings_stored_total") > 500, timeout_s=30, what="flowing")
    stack.influxdb.process.kill()
    eventually(lambda: ingestor.metric("village_ingest_held_messages") > 0, timeout_s=60, what="spool full: holding")
    acked = ingestor.metric("village_ingest_messages_acked_total")
    published = simulation.published()
    held = {"max": 0.0}

    def holding() -> None:
        assert ingestor.alive(), ingestor.log()[-2000:]
        assert ingestor.metric("village_ingest_spool_bytes") <= QUOTA_BYTES
        held["max"] = max(held["max"], ingestor.metric("village_ingest_held_messages"))

    during(HOLD_S, holding)
    assert ingestor.metric("village_ingest_messages_acked_total") == acked  # backpressure: nothing acknowledged
    waiting = simulation.published() - published
    assert waiting > 0  # the fleet went on publishing into the broker meanwhile
    stack.influxdb.restart()
    eventually(lambda: ingestor.metric("village_ingest_held_messages") == 0, timeout_s=60, what="released")
    simulation.wait(timeout_s=run.stream_s + 80)
    account(
        stack,
        simulation.truth(),
        scenario="spool-quota",
        started_s=started_s,
        ingestors=[ingestor],
        extra={
            "quota bytes": QUOTA_BYTES,
            "held messages (max)": int(held["max"]),
            "published while held": waiting,
        },
    )
    assert ingestor.stop() == 0
