"""A fleet of boards in simulated time, published through the radio, with every message in the ground truth."""

from __future__ import annotations

import heapq
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from devices.registry import Registry
from simulators import payloads
from simulators.board import Action, ActionKind, Board
from simulators.faults import FaultRates
from simulators.pacing import Pacer, epoch_ms
from simulators.progress import Snapshot
from simulators.radio import Link, LinkLostError, Radio, Unacknowledged
from simulators.scenario import GroupSpec, Scenario, fleet_of, load_scenario, registry_of
from simulators.truth import TruthLog
from simulators.weather import VillageWeather

logger = logging.getLogger(__name__)

BOARD_WINDOW = 20
"""Unacknowledged messages a board keeps in flight (paho's default max_inflight_messages)."""


def build_boards(
    scenario: Scenario, *, start_ms: int, live_links: bool = True, batch_objects: int | None = None
) -> list[Board]:
    """The scenario's boards, each with independent, reproducible random streams."""
    weathers = {
        village.id: VillageWeather(seed=scenario.seed, index=index, lat=village.lat, lon=village.lon)
        for index, village in enumerate(scenario.chosen_villages())
    }
    return [
        Board(
            device,
            group,
            scenario.faults_of(group),
            seed=scenario.seed,
            index=index,
            weather=weathers[device.village],
            start_ms=start_ms,
            live_links=live_links,
            batch_objects=batch_objects,
        )
        for index, (device, group) in enumerate(fleet_of(scenario))
    ]


def demo_registry(*, villages: int, devices_per_kind: int, seed: int) -> Registry:
    """The `basic` scenario's registry for `villages` communes with `devices_per_kind` boards of each kind."""
    chosen = load_scenario("basic").with_overrides(villages=villages, devices_per_kind=devices_per_kind, seed=seed)
    return registry_of(chosen)


def boards_for(registry: Registry, *, seed: int, start_ms: int | None = None) -> list[Board]:
    """One healthy, always-connected board per registered device, for callers that choose sample times themselves
    (`Board.sample(ts_ms)`); each board has its own reproducible random streams."""
    start_ms = epoch_ms() if start_ms is None else start_ms
    weathers = {
        village.id: VillageWeather(seed=seed, index=index, lat=village.lat, lon=village.lon)
        for index, village in enumerate(registry.villages)
    }
    fallback = VillageWeather(seed=seed, index=len(weathers), lat=11.1, lon=106.6)
    return [
        Board(
            device,
            GroupSpec(kind=device.kind),
            FaultRates(),
            seed=seed,
            index=index,
            weather=weathers.get(device.village, fallback),
            start_ms=start_ms,
        )
        for index, device in enumerate(registry.devices)
    ]


@dataclass(frozen=True, slots=True)
class RunLimits:
    """When a run ends: simulated end time, samples per board, or wall-clock duration (None: no limit)."""

    end_ms: int | None = None
    samples_per_board: int | None = None
    duration_s: float | None = None


class FleetRunner:
    """Steps boards in simulated-time order, paces them against the wall clock, executes their actions."""

    def __init__(
        self,
        boards: Sequence[Board],
        radio: Radio,
        truth: TruthLog,
        pacer: Pacer,
        *,
        on_progress: Callable[[Snapshot], None] | None = None,
        drain_timeout_s: float = 30.0,
    ) -> None:
        self._boards = boards
        self._radio = radio
        self._truth = truth
        self._pacer = pacer
        self._links: dict[int, Link] = {}
        self._unsent: dict[int, list[Unacknowledged]] = {}
        """Per board: messages a closed connection left unacknowledged, sent again on its next connection."""
        self._on_progress = on_progress
        self._drain_timeout_s = drain_timeout_s
        self._last_progress_s = 0.0
        self.published = 0
        self.sim_ms: int | None = None

    def run(self, stop: threading.Event, limits: RunLimits) -> int:
        """Run until a limit is reached or `stop` is set; then boards finish cleanly. Returns messages published."""
        heap = [(board.next_ms, index) for index, board in enumerate(self._boards)]
        heapq.heapify(heap)
        deadline_s = None if limits.duration_s is None else time.monotonic() + limits.duration_s
        steps = 0
        while heap and not stop.is_set():
            due_ms, index = heap[0]
            if limits.end_ms is not None and due_ms > limits.end_ms:
                break
            if deadline_s is not None and time.monotonic() >= deadline_s:
                break
            wait_s = self._pacer.seconds_until(due_ms)
            if wait_s > 0:
                self._radio.pump(min(wait_s, 0.1))
                self._progress()
                continue
            heapq.heappop(heap)
            board = self._boards[index]
            self.sim_ms = due_ms
            self._execute(index, board.step())
            if limits.samples_per_board is None or board.samples_taken < limits.samples_per_board:
                heapq.heappush(heap, (board.next_ms, index))
            steps += 1
            if steps % 64 == 0:
                self._radio.pump(0)
                self._progress()
        self._finish()
        return self.published

    def kill(self, index: int) -> None:
        """Pull the plug on one board now (its last will is published by the broker)."""
        board = self._boards[index]
        self._execute(index, board.kill(self.sim_ms or self._pacer.sim_now()))

    def _finish(self) -> None:
        end_ms = self.sim_ms if self._pacer.speed is None and self.sim_ms is not None else self._pacer.sim_now()
        for index, board in enumerate(self._boards):
            self._execute(index, board.finish(max(end_ms, self.sim_ms or end_ms)))
        if not self._radio.drain(self._drain_timeout_s):
            logger.error("%d messages were not acknowledged by the broker", self._radio.in_flight)
        unsent = sum(map(len, self._unsent.values())) + sum(len(link.unsent) for link in self._links.values())
        if unsent:
            logger.error("%d messages were not acknowledged by the broker (their connection broke)", unsent)
        self._progress(force=True)

    def _execute(self, index: int, actions: list[Action]) -> None:
        board = self._boards[index]
        for action in actions:
            if action.kind is ActionKind.CONNECT:
                self._connect(index, board)
            elif action.kind is ActionKind.PUBLISH:
                self._publish(index, board, action)
            elif action.kind is ActionKind.DROP:
                self._drop(index, board, action)
            else:
                self._disconnect(index)

    def _connect(self, index: int, board: Board) -> None:
        old = self._links.get(index)
        if old is not None and not old.closed:
            if not board.live_links:
                return
            self._settle(old)
            old.disconnect()
        link = self._links[index] = self._open(board)
        unsent = self._unsent.pop(index, [])
        if old is not None:
            unsent, old.unsent = [*unsent, *old.unsent], []
        self._send_again(link, unsent)

    def _send_again(self, link: Link, messages: list[Unacknowledged]) -> None:
        """What the broker never acknowledged on the previous connection, as firmware's outbox sends it again
        after reconnecting (the broker may have received some of it: a duplicate, which is harmless)."""
        for position, message in enumerate(messages):
            try:
                self._radio.publish(link, message.topic, message.payload, retain=message.retain, label=message.label)
            except LinkLostError:  # lost again: the rest waits for the next connection
                link.unsent.extend(messages[position:])
                return

    def _open(self, board: Board) -> Link:
        """Connect as firmware does: retry with backoff while the broker is unreachable (up to the drain timeout)."""
        deadline = time.monotonic() + self._drain_timeout_s
        delay_s = 0.2
        while True:
            try:
                return self._radio.link(board.device.id, will=board.will, window=BOARD_WINDOW, label=board.device.kind)
            except OSError as exc:
                if time.monotonic() + delay_s > deadline:
                    raise
                logger.warning("%s cannot reach the broker (%s); retrying in %.1f s", board.device.id, exc, delay_s)
                self._radio.pump(0)
                time.sleep(delay_s)
                delay_s = min(delay_s * 2, 5.0)

    def _publish(self, index: int, board: Board, action: Action) -> None:
        link = self._links.get(index)
        if link is None or link.closed:  # lost without the board knowing (broker restart): firmware reconnects
            self._connect(index, board)
            link = self._links[index]
            if board.live_links and not action.topic.endswith("/status"):
                birth = payloads.status(online=True)
                self._publish(
                    index,
                    board,
                    Action(ActionKind.PUBLISH, action.at_ms, board.will[0], birth, retain=True, format="status"),
                )
        try:
            self._radio.publish(link, action.topic, action.payload, retain=action.retain, label=board.device.kind)
        except LinkLostError:  # the broker went away under this publish: reconnect (with a birth) and send it again
            self._publish(index, board, action)
            return
        self.published += 1
        self._truth.record(
            action.topic,
            action.payload,
            sent_ms=self._pacer.wall_ms(),
            sim_ms=action.at_ms,
            device=board.device.id,
            format=action.format,
            retain=action.retain,
            faults=list(action.faults),
        )

    def _drop(self, index: int, board: Board, action: Action) -> None:
        link = self._links.pop(index, None)
        if link is None or link.closed:
            self._keep_unsent(index, link)
            return
        self._settle(link)
        link.drop()
        self._keep_unsent(index, link)
        topic, payload = board.will
        self._truth.record(
            topic,
            payload,
            sent_ms=self._pacer.wall_ms(),
            event="will",
            sim_ms=action.at_ms,
            device=board.device.id,
            format="status",
            retain=True,
            faults=[],
            reason=action.reason,
        )

    def _disconnect(self, index: int) -> None:
        link = self._links.pop(index, None)
        if link is not None and not link.closed:
            self._settle(link)
            link.disconnect()
        self._keep_unsent(index, link)

    def _keep_unsent(self, index: int, link: Link | None) -> None:
        """A board's connection is gone: what it left unacknowledged waits for the board's next connection."""
        if link is not None and link.unsent:
            self._unsent.setdefault(index, []).extend(link.unsent)
            link.unsent = []

    def _settle(self, link: Link) -> None:
        """Wait until the broker has acknowledged what this link sent, so leaving loses nothing in flight."""
        if not self._radio.wait(lambda: not link.pending or link.closed, timeout_s=self._drain_timeout_s):
            logger.error("%s: %d messages unacknowledged before it left", link.client_id, len(link.pending))

    def snapshot(self) -> Snapshot:
        buffered: Counter[str] = Counter()
        for board in self._boards:
            if board.buffer:
                buffered[board.device.kind] += len(board.buffer)
        return Snapshot(
            sent=Counter(self._radio.sent),
            acknowledged=Counter(self._radio.acknowledged),
            errors=Counter(self._radio.errors),
            in_flight=self._radio.in_flight,
            buffered=buffered,
            links=self._radio.links,
            sim_ms=self.sim_ms,
        )

    def _progress(self, *, force: bool = False) -> None:
        if self._on_progress is None:
            return
        now = time.monotonic()
        if force or now - self._last_progress_s >= 0.25:
            self._last_progress_s = now
            self._on_progress(self.snapshot())
