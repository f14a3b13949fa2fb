"""`village simulate`: run a simulated village of ESP32-class boards against a broker."""

from __future__ import annotations

import logging
import signal
import threading
from pathlib import Path
from types import FrameType

import click

from devices.config import VillageSettings
from devices.registry import format_registry
from simulators.fleet import FleetRunner, boards_for, demo_registry
from simulators.publisher import Publisher
from simulators.truth import TruthLog

logger = logging.getLogger(__name__)


@click.command("simulate")
@click.option("--villages", default=3, show_default=True, type=click.IntRange(1, 5), help="Demo communes to simulate.")
@click.option(
    "--devices-per-kind",
    default=2,
    show_default=True,
    type=click.IntRange(1, 100),
    help="Boards of each kind (water, air, agri) per village.",
)
@click.option(
    "--interval",
    "interval_s",
    default=10.0,
    show_default=True,
    type=click.FloatRange(0),
    help="Seconds between two messages of one board.",
)
@click.option("--count", type=click.IntRange(1), help="Messages per board, then exit (default: run until stopped).")
@click.option("--seed", default=1, show_default=True, type=int, help="Same seed, same data.")
@click.option("--truth", "truth_path", type=click.Path(path_type=Path), help="Write every sent message here (JSONL).")
@click.option(
    "--registry",
    "registry_path",
    type=click.Path(path_type=Path),
    help="Write the fleet's device registry (TOML) here.",
)
@click.option("--client-id", default="village-simulator", show_default=True, help="MQTT client id.")
def simulate_command(
    villages: int,
    devices_per_kind: int,
    interval_s: float,
    count: int | None,
    seed: int,
    truth_path: Path | None,
    registry_path: Path | None,
    client_id: str,
) -> None:
    """Simulate village boards publishing native telemetry (QoS 1) to VILLAGE_MQTT_URL."""
    settings = VillageSettings()
    registry = demo_registry(villages=villages, devices_per_kind=devices_per_kind, seed=seed)
    if registry_path is not None:
        registry_path.parent.mkdir(parents=True, exist_ok=True)
        registry_path.write_text(format_registry(registry))
    stop = threading.Event()

    def request_stop(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    ca_file = str(settings.mqtt_ca_file) if settings.mqtt_ca_file else None
    publisher = Publisher(settings.mqtt, client_id=client_id, ca_file=ca_file)
    publisher.connect()
    boards = boards_for(registry, seed=seed)
    logger.info("simulating %d boards in %d villages against %s", len(boards), villages, settings.mqtt)
    with TruthLog(truth_path) as truth:
        runner = FleetRunner(boards, publisher, truth, interval_s=interval_s)
        try:
            runner.run(stop, rounds=count)
        finally:
            if not publisher.drain(timeout_s=30):
                logger.error("%d messages were not acknowledged by the broker", publisher.pending)
            publisher.close()
    logger.info("sent %d messages, %d acknowledged", runner.sent, publisher.acknowledged)
