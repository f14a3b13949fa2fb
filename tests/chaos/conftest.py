"""Chaos scenarios run on their own mosquitto and InfluxDB, started per scenario: they kill and restart them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.chaos.harness import Stack
from village.services import start_influxd, start_mosquitto


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    broker = start_mosquitto(tmp_path / "mosquitto")
    try:
        influxdb = start_influxd(tmp_path / "influxdb")
    except BaseException:
        broker.process.stop()
        raise
    try:
        yield Stack(broker, influxdb, tmp_path)
    finally:
        influxdb.process.stop()
        broker.process.stop()
