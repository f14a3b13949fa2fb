"""`village simulate`: ESP32-class boards of Bình Dương communes publishing to the broker."""

from __future__ import annotations

import logging
import math
import signal
import threading
from pathlib import Path
from types import FrameType

import click

from devices.config import VillageSettings
from devices.registry import format_registry
from simulators.fleet import FleetRunner, RunLimits, build_boards
from simulators.load import LoadRunner
from simulators.pacing import Pacer, epoch_ms
from simulators.progress import ProgressDisplay
from simulators.radio import PublishError, Radio
from simulators.scenario import KINDS, GroupSpec, Scenario, ScenarioError, builtin_scenarios, load_scenario, registry_of
from simulators.timespec import parse_duration_ms, parse_time_ms
from simulators.truth import TruthLog

logger = logging.getLogger(__name__)

_EPILOG = """\b
Examples:
  village simulate                                   # 18 healthy boards in 3 communes, real time
  village simulate --scenario demo                   # ~60 boards: deep sleep, outages, SenML, solar
  village simulate --scenario faults --truth t.jsonl # every fault, each one in the ground-truth log
  village simulate --scenario demo --backfill 30d --end 2025-06-01T00:00:00Z   # a month of history, fast
  village simulate --start -1d --speed 60            # replay the last day in 24 minutes, then real time
  village simulate --load --load-devices 5000 --duration 60s   # broker load test with a live display

\b
The ground-truth log (--truth) has one JSON line per published message (topic, verbatim payload, sent_ms,
device, format, faults) and one per last will the broker publishes for a vanished board; see
simulators/truth.py. The registry (--registry) lists every board with its commune and coordinates.
"""


def _duration(_ctx: click.Context, _param: click.Parameter, value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return parse_duration_ms(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc


@click.command("simulate", epilog=_EPILOG)
@click.option(
    "--scenario",
    default="basic",
    show_default=True,
    help=f"Built-in scenario ({', '.join(builtin_scenarios())}) or a scenario TOML file.",
)
@click.option("--villages", type=click.IntRange(1), help="Use only the first N communes of the scenario.")
@click.option("--devices-per-kind", type=click.IntRange(1, 10_000), help="Boards of each kind per commune.")
@click.option("--interval", "interval_s", type=click.FloatRange(0), help="Seconds between a board's samples.")
@click.option("--seed", type=int, help="Same seed, same data (default: the scenario's).")
@click.option("--no-faults", is_flag=True, help="Ignore the scenario's fault rates.")
@click.option("--count", type=click.IntRange(1), help="Samples per board, then exit (default: until stopped).")
@click.option("--duration", "duration_ms", callback=_duration, help="Stop after this much wall time (e.g. 10m).")
@click.option("--speed", type=click.FloatRange(min=0, min_open=True), default=1.0, show_default=True,
              help="Simulated seconds per real second; never runs ahead of the real clock.")  # fmt: skip
@click.option("--start", "start_text", help="Simulated start: now, -2d or ISO 8601 (default: now).")
@click.option("--backfill", "backfill_ms", callback=_duration,
              help="Generate this much history (e.g. 30d) up to --end as fast as possible, then exit.")  # fmt: skip
@click.option("--end", "end_text", help="End of the backfill: ISO 8601 (default: now). Fix it for repeatable data.")
@click.option("--batch", type=click.IntRange(1, 1000), default=1000, show_default=True,
              help="Backfill: samples per store-and-forward array.")  # fmt: skip
@click.option("--load", is_flag=True, help="Load mode: as many messages per second as the broker takes.")
@click.option("--load-devices", type=click.IntRange(1), default=1000, show_default=True, help="Load mode: devices.")
@click.option("--messages", type=click.IntRange(1), help="Load mode: stop after this many messages.")
@click.option("--connections", type=click.IntRange(1, 64), default=2, show_default=True,
              help="Load mode: MQTT connections the devices share.")  # fmt: skip
@click.option("--window", type=click.IntRange(1, 60_000), default=2000, show_default=True,
              help="Load mode: unacknowledged messages per connection.")  # fmt: skip
@click.option("--truth", "truth_path", type=click.Path(path_type=Path), help="Write the ground-truth log (JSONL).")
@click.option("--registry", "registry_path", type=click.Path(path_type=Path),
              help="Write the device registry (TOML) for the API and GIS.")  # fmt: skip
@click.option("--client-id", default="village-simulator", show_default=True, help="Load mode: client id prefix.")
@click.option("--progress/--no-progress", default=True, show_default=True, help="Live display on a terminal.")
def simulate_command(
    scenario: str,
    villages: int | None,
    devices_per_kind: int | None,
    interval_s: float | None,
    seed: int | None,
    no_faults: bool,
    count: int | None,
    duration_ms: int | None,
    speed: float,
    start_text: str | None,
    backfill_ms: int | None,
    end_text: str | None,
    batch: int,
    load: bool,
    load_devices: int,
    messages: int | None,
    connections: int,
    window: int,
    truth_path: Path | None,
    registry_path: Path | None,
    client_id: str,
    progress: bool,
) -> None:
    """Simulate ESP32-class boards in Bình Dương communes, publishing to VILLAGE_MQTT_URL at QoS 1.

    Each board has its own MQTT connection with a last will (`offline`) and a retained `online`, samples
    on a period with jitter, buffers through Wi-Fi outages and deep sleep and uploads store-and-forward
    arrays, counts `seq` (reset by a brown-out), runs on a solar-charged Li-ion cell, and reports signals
    shaped by Bình Dương's climate. Scenarios choose communes, boards, formats (native JSON, SenML) and
    fault rates. TLS: VILLAGE_MQTT_URL=mqtts://… with VILLAGE_MQTT_CA_FILE.
    """
    settings = VillageSettings()
    try:
        chosen = load_scenario(scenario).with_overrides(
            villages=villages,
            devices_per_kind=devices_per_kind,
            interval_s=interval_s,
            seed=seed,
            no_faults=no_faults or load,
        )
        now_ms = epoch_ms()
        start_ms = parse_time_ms(start_text, now_ms=now_ms) if start_text else now_ms
        end_ms = parse_time_ms(end_text, now_ms=now_ms) if end_text else now_ms
    except (ScenarioError, ValueError) as exc:
        raise click.UsageError(str(exc)) from exc
    registry = registry_of(chosen)
    if load:
        chosen = _load_fleet(chosen, load_devices)
        registry = registry_of(chosen)
        registry = registry.model_copy(update={"devices": registry.devices[:load_devices]})
    if registry_path is not None:
        registry_path.parent.mkdir(parents=True, exist_ok=True)
        partial = registry_path.with_name(registry_path.name + ".partial")
        partial.write_text(format_registry(registry), encoding="utf-8")
        partial.replace(registry_path)  # readers never see half a registry
    stop = _stop_on_signals()
    radio = Radio(settings.mqtt, ca_file=str(settings.mqtt_ca_file) if settings.mqtt_ca_file else None)
    with TruthLog(truth_path) as truth, ProgressDisplay(f"village simulate · {chosen.name}", enabled=progress) as shown:
        try:
            if load:
                boards = build_boards(chosen, start_ms=now_ms, live_links=False)[:load_devices]
                runner = LoadRunner(
                    boards, radio, truth, connections=connections, window=window, client_id=client_id,
                    on_progress=shown.update,
                )  # fmt: skip
                duration_s = None if duration_ms is None else duration_ms / 1000
                result = runner.run(stop, messages=messages, duration_s=duration_s)
                logger.info(
                    "load: %d sent, %d acknowledged in %.1f s = %.0f msg/s from %d devices on %d connections",
                    result.sent, result.acknowledged, result.seconds, result.rate, len(boards), connections,
                )  # fmt: skip
                return
            if backfill_ms is not None:
                boards = build_boards(chosen, start_ms=end_ms - backfill_ms, live_links=False, batch_objects=batch)
                pacer = Pacer(start_sim_ms=end_ms - backfill_ms, speed=None)
                limits = RunLimits(end_ms=end_ms, samples_per_board=count)
            else:
                boards = build_boards(chosen, start_ms=start_ms)
                pacer = Pacer(start_sim_ms=start_ms, speed=speed)
                limits = RunLimits(
                    samples_per_board=count, duration_s=None if duration_ms is None else duration_ms / 1000
                )
            logger.info(
                "simulating %d boards (%s) in %d communes against %s",
                len(boards), chosen.name, len(chosen.chosen_villages()), settings.mqtt,
            )  # fmt: skip
            fleet = FleetRunner(boards, radio, truth, pacer, on_progress=shown.update)
            fleet.run(stop, limits)
            logger.info("published %d messages, %d acknowledged", fleet.published, sum(radio.acknowledged.values()))
        except (OSError, PublishError) as exc:
            raise click.ClickException(f"the broker {settings.mqtt} failed the simulator: {exc}") from exc
        finally:
            radio.close()


def _stop_on_signals() -> threading.Event:
    stop = threading.Event()

    def request_stop(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    return stop


def _load_fleet(scenario: Scenario, devices: int) -> Scenario:
    """`devices` healthy native boards spread evenly over the scenario's communes and the three kinds."""
    per_group = math.ceil(devices / (3 * len(scenario.chosen_villages())))
    groups = tuple(GroupSpec(kind=kind, count=per_group, supply="mains") for kind in KINDS)
    return scenario.model_copy(update={"group": groups, "name": f"{scenario.name} (load)"})
