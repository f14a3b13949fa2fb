"""(e) two ingestors on one shared subscription, one SIGKILLed mid-stream and started again."""

from __future__ import annotations

import time

from tests.chaos.harness import Ingestor, Simulation, Stack, during, fleet_toml, profile
from tests.chaos.outcome import account
from tests.helpers import eventually


def test_one_of_two_shared_ingestors_killed_mid_stream_loses_nothing(stack: Stack) -> None:
    run = profile()
    started_s = time.monotonic()
    scenario = stack.write_scenario(fleet_toml(stack.village, interval_s=run.interval_s))
    group = {"VILLAGE_INGEST_SHARE_GROUP": "ingest"}
    survivor = Ingestor(stack, f"ingest-a-{stack.village}", name="ingest-a", **group).start()
    victim = Ingestor(stack, f"ingest-b-{stack.village}", name="ingest-b", **group).start()
    simulation = Simulation(stack, scenario, seconds=run.stream_s)
    eventually(lambda: victim.metric("village_ingest_readings_stored_total") > 300, timeout_s=30, what="B working")
    victim.kill()
    taken_before = survivor.metric("village_ingest_messages_total")
    published_before = simulation.published()
    during(run.outage_s, lambda: survivor.alive() or survivor.process)
    taken_alone = survivor.metric("village_ingest_messages_total") - taken_before
    published_alone = simulation.published() - published_before
    victim.start()  # same client id: its persistent session, and what the broker kept in it, come back
    simulation.wait(timeout_s=run.stream_s + 60)
    entries = simulation.truth()
    account(
        stack,
        entries,
        scenario="shared-subscription",
        started_s=started_s,
        ingestors=[survivor, victim],
        redelivery=True,
        shared=True,
        extra={
            "published while B was dead": published_alone,
            "taken by A meanwhile": int(taken_alone),
        },
    )
    assert survivor.stop() == 0 and victim.stop() == 0
