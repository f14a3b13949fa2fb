"""Boards without a clock that flush a buffer as several arrays back to back: every reading keeps its own point.

Their readings are stored at stand-in times (the receive time, one millisecond apart back through the array). Found
while checking the chaos accounting of receive-time readings (issue 9): when an ingest batch ended between two
arrays, the second array was given the milliseconds of the first, and InfluxDB kept only the second's values.
Batches of one message make every array boundary a batch boundary.
"""

from __future__ import annotations

import time

from tests.chaos.harness import Ingestor, Simulation, Stack
from tests.chaos.outcome import account


def clockless_fleet(village: str) -> str:
    return f"""
name = "clockless"
seed = 5
villages = ["{village}"]

[[village]]
id = "{village}"
name = "Làng không giờ"
lat = 11.1
lon = 106.6

[faults]
duplicate = 0.02
nan = 0.005

[[group]]  # no NTP; Wi-Fi drops for a few seconds, then the buffer goes out as arrays of 20
kind = "agri"
count = 2
interval_s = 0.05
clock = "none"
supply = "mains"
outages_per_day = 30000
outage_minutes = [0.05, 0.1]
flush_batch = 20
"""


def test_clockless_buffers_flushed_as_several_arrays_keep_every_reading(stack: Stack) -> None:
    started_s = time.monotonic()
    scenario = stack.write_scenario(clockless_fleet(stack.village))
    ingestor = Ingestor(stack, f"ingest-{stack.village}", VILLAGE_INGEST_BATCH_MAX_MESSAGES="1").start()
    simulation = Simulation(stack, scenario, seconds=15)
    simulation.wait(timeout_s=75)
    entries = simulation.truth()
    arrays = sum(1 for e in entries if str(e["payload"]).startswith("["))
    account(
        stack,
        entries,
        scenario="clockless-arrays",
        started_s=started_s,
        ingestors=[ingestor],
        collapses=False,
        extra={"store-and-forward arrays": arrays},
    )
    assert arrays > 5
    assert ingestor.stop() == 0
