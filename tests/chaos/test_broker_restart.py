"""(c) mosquitto restarted mid-stream, with persistence: the queue of the ingestor's session survives it."""

from __future__ import annotations

import time

from tests.chaos.harness import Ingestor, Simulation, Stack, fleet_toml, profile
from tests.chaos.outcome import account
from tests.helpers import eventually


def test_mosquitto_restarted_mid_stream_loses_nothing(stack: Stack) -> None:
    run = profile()
    started_s = time.monotonic()
    scenario = stack.write_scenario(fleet_toml(stack.village, interval_s=run.interval_s))
    ingestor = Ingestor(stack, f"ingest-{stack.village}").start()
    simulation = Simulation(stack, scenario, seconds=run.stream_s)
    eventually(lambda: ingestor.metric("village_ingest_readings_stored_total") > 500, timeout_s=30, what="flowing")
    stack.broker.restart()  # SIGTERM: mosquitto writes its persistence file, then starts again on the same port
    eventually(lambda: ingestor.metric("village_ingest_broker_connected") == 1, timeout_s=30, what="reconnected")
    simulation.wait(timeout_s=run.stream_s + 60)
    entries = simulation.truth()
    account(stack, entries, scenario="broker-restart", started_s=started_s, ingestors=[ingestor], redelivery=True)
    assert ingestor.stop() == 0
