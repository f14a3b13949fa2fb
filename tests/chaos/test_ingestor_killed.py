"""(b) the ingestor SIGKILLed mid-stream and started again: the broker kept everything it had not acknowledged.

To be sure the kill finds messages in flight, the ingestor first hangs for a second (SIGSTOP): the broker keeps
sending to it, and those messages are received but never acknowledged when SIGKILL comes.

This fleet includes a board without a clock. Its readings are stored at the receive time, so a message the
killed ingestor had stored but not yet acknowledged comes back and is stored again at a new time: the limit the
README documents. Those copies are counted apart; every reading is still there once, and none is invented.
"""

from __future__ import annotations

import time

from tests.chaos.harness import Ingestor, Simulation, Stack, during, fleet_toml, profile
from tests.chaos.outcome import account
from tests.helpers import eventually

HANG_S = 1.0


def test_ingestor_sigkilled_mid_stream_loses_nothing(stack: Stack) -> None:
    run = profile()
    started_s = time.monotonic()
    scenario = stack.write_scenario(fleet_toml(stack.village, interval_s=run.interval_s, clockless=True))
    ingestor = Ingestor(stack, f"ingest-{stack.village}").start()
    simulation = Simulation(stack, scenario, seconds=run.stream_s)
    eventually(lambda: ingestor.metric("village_ingest_readings_stored_total") > 500, timeout_s=30, what="flowing")
    ingestor.freeze()
    during(HANG_S, lambda: None)  # hung: the broker goes on sending, nothing is acknowledged
    unread = eventually(lambda: ingestor.unread_from(stack.broker.port), what="the broker sent to the hung ingestor")
    ingestor.kill()  # SIGKILL: no flush, no last acknowledgements
    during(run.outage_s, lambda: None)  # the broker queues for the persistent session meanwhile
    ingestor.start()  # same client id: the session, its queue and the unacknowledged messages come back
    simulation.wait(timeout_s=run.stream_s + 60)
    entries = simulation.truth()
    account(
        stack,
        entries,
        scenario="ingestor-sigkill",
        started_s=started_s,
        ingestors=[ingestor],
        redelivery=True,
        extra={"bytes sent to the hung ingestor, unread when killed": unread},
    )
    assert ingestor.stop() == 0
