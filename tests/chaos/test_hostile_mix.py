"""(f) 1 % hostile messages mixed into a steady stream: cases of the hostile corpus (tests/hostile/corpus.toml),
each on a board of its own, published between the simulator's messages, one for every 99 of them.

The steady fleet must be stored exactly as if nothing else had happened, and each hostile message must end as
its corpus entry promises: rejected with its reasons (raw payload kept) or stored. Cases the prediction can judge
(a well-formed topic, UTF-8 text) go through it like any other message, and their corpus promise is checked
against it first; the others (ids the registry refuses, bytes that are not text) carry the corpus verdict.

The CI run draws as many cases as 1 % of its stream allows, in an order fixed by `VILLAGE_CHAOS_SEED` (default 9);
`VILLAGE_CHAOS=long` publishes enough to draw every case.
"""

from __future__ import annotations

import base64
import os
import random
import time
from typing import Any

from devices.registry import Registry, format_registry
from simulators.prediction import predict
from simulators.scenario import parse_scenario, registry_of
from tests.chaos.harness import Ingestor, Simulation, Stack, fleet_toml, profile
from tests.chaos.outcome import account
from tests.helpers import eventually, mqtt_publisher, publish_all
from tests.hostile.corpus import Case, load_cases, registry

SIMULATED_PER_HOSTILE = 99
"""One hostile message per 99 of the simulator's: 1 % of the stream."""


def test_one_percent_hostile_messages_lose_nothing(stack: Stack) -> None:
    run = profile()
    started_s = time.monotonic()
    other = f"{stack.village}-x"
    cases = mixable(load_cases(stack.village, other))
    random.Random(int(os.environ.get("VILLAGE_CHAOS_SEED", "9"))).shuffle(cases)
    fleet = fleet_toml(stack.village, interval_s=run.interval_s / 5)
    scenario = stack.write_scenario(fleet)
    stack.registry_path.write_text(format_registry(combined(registry_of(parse_scenario(fleet)), other, cases)))
    ingestor = Ingestor(stack, f"ingest-{stack.village}").start()
    simulation = Simulation(stack, scenario, seconds=run.stream_s)
    hostile = publish_between(stack, simulation, cases)
    simulation.wait(timeout_s=run.stream_s + 60)
    assert ingestor.alive(), ingestor.log()[-2000:]
    entries = [*simulation.truth(), *hostile]
    figures = account(
        stack,
        entries,
        scenario="hostile-1pct",
        started_s=started_s,
        ingestors=[ingestor],
        extra={"hostile messages": len(hostile), "corpus cases": len(cases)},
    )
    share = len(hostile) / figures.messages
    assert len(hostile) >= 10 and 0.005 <= share <= 0.011, f"{len(hostile)} hostile of {figures.messages}"
    assert ingestor.stop() == 0


def mixable(cases: list[Case]) -> list[Case]:
    """Cases the broker delivers to the ingestor; a topic the broker refuses would end the publisher's session."""
    return [c for c in cases if c.reaches_ingestor and not (c.stored and custom_topic(c))]


def custom_topic(case: Case) -> bool:
    """A topic of the case's own (an id the registry or the topic rules refuse), not its board's usual one."""
    return case.topic != f"village/{case.village}/{case.device}/{case.channel}"


def combined(fleet: Registry, other: str, cases: list[Case]) -> Registry:
    """The fleet's registry, with the other village and every case's board."""
    corpus = registry(fleet.villages[0].id, other, cases)
    return Registry(villages=(*fleet.villages, corpus.villages[1]), devices=(*fleet.devices, *corpus.devices))


def publish_between(stack: Stack, simulation: Simulation, cases: list[Case]) -> list[dict[str, Any]]:
    """Publish the next case each time the simulator has published 99 more messages; their ground-truth entries."""
    entries: list[dict[str, Any]] = []
    with mqtt_publisher(stack.broker.url) as client:
        for case in cases:
            due = (len(entries) + 1) * SIMULATED_PER_HOSTILE
            if (
                not eventually(
                    lambda due=due: simulation.published() >= due or not simulation.process.alive(),
                    timeout_s=120,
                    interval_s=0.02,
                    what="the simulator's next 99 messages",
                )
                or not simulation.process.alive()
            ):
                break
            entry = truth_entry(case, sent_ms=time.time_ns() // 1_000_000)
            publish_all(client, [(case.topic, case.payload)])
            entries.append(entry)
    return entries


def truth_entry(case: Case, *, sent_ms: int) -> dict[str, Any]:
    """The case as a ground-truth entry. Where the prediction can judge it, its corpus promise must agree first."""
    entry: dict[str, Any] = {"event": "publish", "topic": case.topic, "sent_ms": sent_ms, "hostile": case.name}
    try:
        entry["payload"] = case.payload.decode("utf-8")
    except UnicodeDecodeError:
        entry["payload_b64"] = base64.b64encode(case.payload).decode()
    if custom_topic(case) or "payload_b64" in entry:
        entry["expect"] = list(case.expect)
        return entry
    predicted = sorted(r.reason.value for r in predict([entry]).rejections)
    assert predicted == list(case.expect), f"{case.name}: corpus promises {case.expect}, prediction {predicted}"
    return entry
