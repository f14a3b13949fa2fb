"""`village up` starts the whole system, gets readings to the API within 30 s, and leaves nothing behind."""

from __future__ import annotations

import os
import signal
import socket
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.helpers import eventually
from village.processes import child_environment, free_port, spawn
from village.services import INSTALL_HINT, MissingBinaryError, require_binary

pytestmark = pytest.mark.e2e


def descendants(pid: int) -> set[int]:
    """Every process below `pid`, from /proc (children of children included)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").exists() and " Z " not in Path(f"/proc/{pid}/stat").read_text()


def test_up_serves_readings_within_30_s_and_stops_cleanly(tmp_path: Path) -> None:
    api_port = free_port()
    with socket.socket() as squatter:  # a broker port already taken, as by a system mosquitto
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        taken = squatter.getsockname()[1]
        started = time.monotonic()
        up = spawn(
            "up",
            [sys.executable, "-m", "village", "up", "--mqtt-port", str(taken), "--influx-port", "0",
             "--api-port", str(api_port), "--interval", "1", "--villages", "1", "--devices-per-kind", "1"],
            log_path=tmp_path / "up.log",
            env=child_environment(VILLAGE_DATA_DIR=str(tmp_path / "data")),
        )  # fmt: skip
        try:

            def latest() -> dict[str, object] | None:
                try:
                    response = httpx.get(
                        f"http://127.0.0.1:{api_port}/api/v1/devices/an-tay-water-01/latest", timeout=2
                    )
                except httpx.HTTPError:
                    return None
                return response.json() if response.status_code == 200 else None

            body = eventually(latest, timeout_s=30, interval_s=0.25, what=f"readings via the API\n{up.log_tail(40)}")
            elapsed_s = time.monotonic() - started
            assert elapsed_s < 30
            assert {"ph", "do", "turbidity", "bat", "rssi"} <= set(body["readings"])
            output = up.log_path.read_text()
            assert f"Port {taken} is taken" in output
            assert "Smart Village is running" in output
            children = descendants(up.pid)
            assert len(children) >= 5  # mosquitto, influxd, ingest, api, simulate
        finally:
            up.popen.send_signal(signal.SIGINT)
            up.popen.wait(30)
    assert up.popen.returncode == 0, up.log_tail(40)
    eventually(lambda: not any(alive(pid) for pid in children), timeout_s=5, what="no process left behind")
    assert (tmp_path / "data" / "registry.toml").exists()
    assert "Stopped." in up.log_path.read_text()


def test_missing_binary_is_refused_with_the_install_command() -> None:
    with pytest.raises(MissingBinaryError) as caught:
        require_binary("mosquitto-that-is-not-installed")
    assert INSTALL_HINT in str(caught.value)
    assert require_binary("mosquitto").endswith("/mosquitto")
