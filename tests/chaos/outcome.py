"""After a chaos scenario: wait until the pipeline has settled, count everything, assert nothing was lost.

The assertions, for every scenario: the ledger's own arithmetic holds (what prediction says collapses is exactly
what the simulator published twice); every point the prediction expects is in InfluxDB with its value and
nothing else is; every rejection is in the rejected store with the predicted reasons, message by message;
every board's last status is the predicted one; stored + rejected + collapsed = published, lost = 0.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence

from tests.chaos.accounting import (
    Entry,
    Figures,
    Ledger,
    channel_of,
    ledger,
    match_rejections,
    receive_time_values,
    stored_count,
    stored_points,
)
from tests.chaos.harness import Ingestor, Stack, profile, rejected_entries, write_artifact
from tests.helpers import influx_rows


def settle(stack: Stack, book: Ledger, ingestors: Sequence[Ingestor], *, timeout_s: float = 90) -> None:
    """Wait until InfluxDB and the rejected store hold at least what the ledger expects and the running ingestors
    are idle (spool empty, nothing held). After `timeout_s` it returns anyway: the counts then say what is
    missing."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        idle = not any(
            i.metric("village_ingest_spool_bytes") or i.metric("village_ingest_held_messages")
            for i in ingestors
            if i.alive()
        )
        if idle and stored_count(stack.influxdb.url, stack.database) >= book.expected_stored:
            return
        time.sleep(0.5)  # polling InfluxDB and the ingestors' metrics


def account(
    stack: Stack,
    entries: Sequence[Entry],
    *,
    scenario: str,
    started_s: float,
    ingestors: Sequence[Ingestor],
    redelivery: bool = False,
    collapses: bool = True,
    shared: bool = False,
    extra: dict[str, object] | None = None,
) -> Figures:
    """Count the run and assert the guarantee. `redelivery`: the scenario cut the ingestor (or the broker) off
    mid-stream, so copies of rejections and of receive-time readings are allowed, matched and counted apart.
    `collapses`: the fleet's duplicate publishes collapse (not for boards without a clock: each copy is stored).
    `shared`: several instances on a shared subscription (see `_check_statuses`)."""
    book = ledger(entries)
    settle(stack, book, ingestors)
    prediction = book.prediction
    assert not prediction.ambiguous, prediction.ambiguous
    assert book.collapsed == book.duplicate_points, (
        f"prediction collapses {book.collapsed} readings, the simulator published {book.duplicate_points} twice"
    )
    stored = stored_points(stack.influxdb.url, stack.database, prediction)
    missing = {k: v for k, v in prediction.points.items() if stored.timed.get(k) != v}
    assert not missing, f"{len(missing)} points missing or wrong in InfluxDB, e.g. {list(missing.items())[:5]}"
    copies = _receive_time(book, stored.receive_time, redelivery=redelivery)
    rejected = match_rejections(book, rejected_entries(stack))
    assert not rejected.missing, rejected.missing[:10]
    assert not rejected.mismatched, rejected.mismatched[:10]
    assert not rejected.unexplained, rejected.unexplained[:10]
    if not redelivery:
        assert rejected.copies == 0, f"{rejected.copies} rejected messages recorded twice without a crash"
    _check_statuses(stack, book, shared=shared)
    figures = Figures(
        scenario=scenario,
        published=book.published,
        stored=stored.count - copies,
        rejected=rejected.rejections,
        collapsed=book.collapsed,
        seconds=time.monotonic() - started_s,
        messages=len(book.messages),
        extra={
            "profile": profile().name,
            "status messages": book.status_messages(),
            **({"rejections re-recorded after redelivery": rejected.copied_rejections} if redelivery else {}),
            **({"receive-time copies after redelivery": copies} if redelivery else {}),
            **(extra or {}),
        },
    )
    print(figures.line())
    write_artifact(scenario, {**figures.__dict__, "lost": figures.lost})
    assert figures.lost == 0, figures.line()
    assert figures.rejected > 0, "the scenario must exercise rejections"
    assert figures.collapsed > 0 or not collapses, "the scenario must exercise duplicates"
    return figures


def _receive_time(book: Ledger, found: dict[tuple[str, str], list[float]], *, redelivery: bool) -> int:
    """Readings stored at the receive time: each published one stored (a value published is a value found),
    nothing invented; copies (redelivery only) are returned."""
    expected = book.prediction.receive_time
    counts = Counter({key: len(values) for key, values in found.items()})
    if not redelivery:
        assert counts == expected, f"receive-time readings: stored {dict(counts)}, predicted {dict(expected)}"
        return 0
    published = receive_time_values(book.messages)
    for key, values in published.items():
        assert not Counter(values) - Counter(found.get(key, [])), f"{key}: a reading without a clock is missing"
    for key, values in found.items():
        assert set(values) <= set(published.get(key, [])), f"{key}: a stored value nobody published"
    return sum(counts.values()) - sum(expected.values())


RACE_MS = 250
"""Two instances' receive stamps can invert messages published this close together (threads on a loaded host)."""


def _check_statuses(stack: Stack, book: Ledger, *, shared: bool) -> None:
    """Each board's last stored status is its last published one. On a shared subscription, two status changes
    published moments apart (a deep-sleep board's wake and sleep, 1 ms) can go to two instances, each stamping its
    own receive time after its own scheduling delay: which one ends last is a race, so boards whose last two
    changes were published within RACE_MS are left out (the others must match)."""
    rows = influx_rows(stack.influxdb.url, stack.database, 'SELECT "online", "device" FROM "status"')
    last = {str(row["device"]): row["online"] == 1.0 for row in rows}  # rows come in time order
    expected = book.prediction.final_status
    if shared:
        racing = _last_two_in_one_ms(book)
        assert racing != set(expected), "every board raced: nothing left to check"
        last = {device: online for device, online in last.items() if device not in racing}
        expected = {device: online for device, online in expected.items() if device not in racing}
    assert last == expected, {d: (last.get(d), expected.get(d)) for d in expected if last.get(d) != expected[d]}


def _last_two_in_one_ms(book: Ledger) -> set[str]:
    times: dict[str, list[int]] = {}
    for message in book.messages:
        if channel_of(message.entry) == "status":
            times.setdefault(str(message.entry["topic"]).split("/")[2], []).append(int(message.entry["sent_ms"]))
    return {device for device, sent in times.items() if len(sent) > 1 and sent[-1] - sent[-2] <= RACE_MS}
