"""`village up`: the whole system on one machine — broker, database, ingestor, API and a simulated village."""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path
from types import FrameType

import click
import httpx
from rich.console import Console
from rich.panel import Panel

from devices.config import VillageSettings
from devices.errors import RegistryError
from devices.registry import parse_registry
from village.processes import ManagedProcess, child_environment, free_port, port_is_free, spawn, wait_until
from village.services import MissingBinaryError, require_binary, start_influxd, start_mosquitto

console = Console(stderr=True, highlight=False)


def _pick_port(preferred: int, what: str) -> int:
    if preferred == 0:
        return free_port()
    if port_is_free(preferred):
        return preferred
    chosen = free_port()
    console.print(f"[yellow]Port {preferred} is taken (another {what} is running?); using {chosen} instead.[/]")
    return chosen


def _village_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "village", *args]


def _api_healthy(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1.0).status_code == 200
    except httpx.HTTPError:
        return False


def _banner(*, mqtt_url: str, influx_url: str, api_port: int, data_dir: Path, example_device: str | None) -> Panel:
    api = f"http://127.0.0.1:{api_port}"
    lines = [
        f"[bold]Farmer page[/]    {api}/",
        f"[bold]API[/]            {api}/docs",
        f"[bold]MQTT broker[/]    {mqtt_url}",
        f"[bold]InfluxDB[/]       {influx_url}  (database 'village')",
        f"[bold]Data and logs[/]  {data_dir}",
        "",
        "[bold]Try[/]",
        f"  curl {api}/healthz",
    ]
    if example_device:
        lines.append(f"  curl {api}/api/v1/devices/{example_device}/latest")
    port = mqtt_url.rsplit(":", 1)[1]
    lines += [
        f"  mosquitto_sub -p {port} -t 'village/#' -v",
        f"""  mosquitto_pub -p {port} -t village/demo/my-board/telemetry -m '{{"readings": {{"ph": 7.1}}}}'""",
        "",
        "Ctrl-C stops everything.",
    ]
    return Panel("\n".join(lines), title="Smart Village is running", border_style="green")


@click.command("up")
@click.option("--mqtt-port", default=1883, show_default=True, help="Broker port (another is chosen if taken; 0 = any).")
@click.option("--influx-port", default=8086, show_default=True, help="InfluxDB port (another is chosen if taken).")
@click.option("--api-port", default=8000, show_default=True, help="API port (another is chosen if taken).")
@click.option("--simulate/--no-simulate", default=True, show_default=True, help="Run a simulated village.")
@click.option("--scenario", default="demo", show_default=True, help="Simulator scenario (see village simulate).")
@click.option("--villages", type=click.IntRange(1), help="Simulated communes (default: the scenario's).")
@click.option("--devices-per-kind", type=click.IntRange(1, 100), help="Simulated boards of each kind per commune.")
@click.option("--interval", type=click.FloatRange(0), help="Seconds between a board's samples (default: scenario's).")
def up_command(
    mqtt_port: int,
    influx_port: int,
    api_port: int,
    simulate: bool,
    scenario: str,
    villages: int | None,
    devices_per_kind: int | None,
    interval: float | None,
) -> None:
    """Run mosquitto, InfluxDB, the ingestor, the API and a simulated village, until Ctrl-C."""
    settings = VillageSettings()
    try:
        for binary in ("mosquitto", "influxd"):
            require_binary(binary)
    except MissingBinaryError as exc:
        console.print(f"[red]{exc}[/]")
        raise SystemExit(2) from exc
    data_dir = settings.data_dir.resolve()
    stop = threading.Event()

    def request_stop(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    started: list[ManagedProcess] = []
    try:
        console.print(f"Starting the local stack in {data_dir} …")
        broker = start_mosquitto(data_dir / "mosquitto", port=_pick_port(mqtt_port, "MQTT broker"))
        started.append(broker.process)
        database = start_influxd(data_dir / "influxdb", port=_pick_port(influx_port, "InfluxDB"))
        started.append(database.process)
        api_port = _pick_port(api_port, "web server")
        registry_file = settings.registry_path.resolve()
        env = child_environment(
            VILLAGE_MQTT_URL=broker.url,
            VILLAGE_INFLUX_URL=database.url,
            VILLAGE_DATA_DIR=str(data_dir),
            VILLAGE_REGISTRY_FILE=str(registry_file),
            VILLAGE_API_PUBLIC_READ="1",
            VILLAGE_INGEST_CLIENT_ID="village-ingest-local",
        )
        logs = data_dir / "logs"
        started.append(spawn("ingest", _village_command("ingest"), log_path=logs / "ingest.log", env=env))
        api = spawn("api", _village_command("api", "--port", str(api_port)), log_path=logs / "api.log", env=env)
        started.append(api)
        wait_until(lambda: _api_healthy(api_port), timeout_s=30, what="API", process=api)
        example = None
        if simulate:
            overrides = [
                (flag, str(value))
                for flag, value in (("--villages", villages), ("--devices-per-kind", devices_per_kind),
                                    ("--interval", interval))
                if value is not None
            ]  # fmt: skip
            argv = _village_command(
                "simulate", "--scenario", scenario, "--registry", str(registry_file), "--no-progress",
                *(part for pair in overrides for part in pair),
            )  # fmt: skip
            started.append(spawn("simulate", argv, log_path=logs / "simulate.log", env=env))
            example = _first_device(registry_file)
        console.print(
            _banner(
                mqtt_url=broker.url,
                influx_url=database.url,
                api_port=api_port,
                data_dir=data_dir,
                example_device=example,
            )
        )
        _supervise(started, stop)
    except (TimeoutError, OSError) as exc:
        console.print(f"[red]Could not start the stack: {exc}[/]")
        raise SystemExit(1) from exc
    finally:
        for process in reversed(started):
            process.stop()
        console.print("Stopped. Data kept in", str(data_dir))


def _first_device(registry_file: Path) -> str | None:
    """The first board the simulator registered (it writes the registry before its first message)."""
    try:
        wait_until(registry_file.exists, timeout_s=10, what="simulator registry")
        return parse_registry(registry_file.read_text(encoding="utf-8")).devices[0].id
    except (TimeoutError, OSError, RegistryError, IndexError):
        return None


def _supervise(processes: list[ManagedProcess], stop: threading.Event) -> None:
    """Wait for Ctrl-C; if a service dies on its own, say which and stop the rest."""
    while not stop.wait(0.5):
        for process in processes:
            if not process.alive() and not (process.name == "simulate" and process.popen.returncode == 0):
                console.print(f"[red]{process.name} exited with {process.popen.returncode}; see {process.log_path}[/]")
                console.print(process.log_tail())
                stop.set()
                break
