"""(a) InfluxDB killed for 30 s while the fleet publishes, then started again: the spool carries the outage."""

from __future__ import annotations

import time

from tests.chaos.harness import Ingestor, Simulation, Stack, during, fleet_toml, profile
from tests.chaos.outcome import account
from tests.helpers import eventually

OUTAGE_S = 30.0
"""Issue 9 asks for 30 s in CI; the long profile holds it longer."""


def test_influxdb_killed_for_30_s_loses_nothing(stack: Stack) -> None:
    run = profile()
    outage_s = max(OUTAGE_S, run.outage_s)
    started_s = time.monotonic()
    scenario = stack.write_scenario(fleet_toml(stack.village, interval_s=run.interval_s))
    ingestor = Ingestor(stack, f"ingest-{stack.village}").start()
    simulation = Simulation(stack, scenario, seconds=max(run.stream_s, outage_s + 12))
    eventually(lambda: ingestor.metric("village_ingest_readings_stored_total") > 500, timeout_s=30, what="flowing")
    stack.influxdb.process.kill()  # SIGKILL: what InfluxDB acknowledged must be in its WAL already
    spooled_before = ingestor.metric("village_ingest_readings_spooled_total")
    peak = {"spool_bytes": 0.0}

    def spooling() -> None:
        assert ingestor.alive(), ingestor.log()[-2000:]
        peak["spool_bytes"] = max(peak["spool_bytes"], ingestor.metric("village_ingest_spool_bytes"))
        assert ingestor.metric("village_ingest_held_messages") == 0  # the spool takes it all: nothing held

    during(outage_s, spooling)
    spooled = ingestor.metric("village_ingest_readings_spooled_total") - spooled_before
    assert ingestor.metric("village_ingest_influxdb_up") == 0 and spooled > 0
    stack.influxdb.restart()
    simulation.wait(timeout_s=run.stream_s + outage_s + 60)
    figures = account(
        stack,
        simulation.truth(),
        scenario="influxdb-killed-30s",
        started_s=started_s,
        ingestors=[ingestor],
        extra={"outage s": outage_s, "readings spooled": int(spooled), "spool peak bytes": int(peak["spool_bytes"])},
    )
    eventually(lambda: ingestor.metric("village_ingest_spool_bytes") == 0, what="spool replayed and deleted")
    assert ingestor.metric("village_ingest_readings_replayed_total") == ingestor.metric(
        "village_ingest_readings_spooled_total"
    )
    assert figures.stored > spooled
    assert ingestor.stop() == 0
