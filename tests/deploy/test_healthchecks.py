"""The healthchecks of docker-compose.yml, run for real against real services (only ports rewritten)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry, start_http_server

from tests.deploy.clients import logged_in
from tests.deploy.compose import env_example_values, resolved_compose
from tests.helpers import eventually, village_process
from village.processes import child_environment, free_port


@pytest.fixture(scope="module")
def services() -> dict[str, Any]:
    env = {**env_example_values(), "INFLUXDB_ADMIN_PASSWORD": "x", "INFLUXDB_READ_USER_PASSWORD": "y"}
    resolved: dict[str, Any] = resolved_compose({**env, "GRAFANA_ADMIN_PASSWORD": "z"})["services"]
    return resolved


def run_check(test: list[str], *, env: dict[str, str] | None = None) -> int:
    """Run a compose healthcheck `test` as the container would, with this machine's python."""
    kind, *command = test
    argv = ["/bin/sh", "-c", command[0]] if kind == "CMD-SHELL" else command
    if argv[0] == "python":
        argv = [sys.executable, *argv[1:]]
    done = subprocess.run(argv, env=child_environment(**(env or {})), capture_output=True, timeout=30, check=False)
    return done.returncode


def env_file(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if line and not line.startswith("#"))


def test_the_broker_check_logs_in_with_the_monitor_login(services, site, production_broker) -> None:
    kind, command = services["mosquitto"]["healthcheck"]["test"]
    assert (kind, "-p 1883" in command) == ("CMD-SHELL", True)
    test = [kind, command.replace("-p 1883", f"-p {production_broker.plain_port}")]
    monitor = env_file(site.secrets.service_env("_monitor"))  # the container's env_file
    assert run_check(test, env=monitor) == 0
    assert run_check(test, env={**monitor, "MQTT_MONITOR_PASSWORD": "wrong"}) != 0
    production_broker.stop()
    assert run_check(test, env=monitor) != 0


def test_the_api_check_asks_healthz(services, influxdb, database_name, tmp_path: Path) -> None:
    test = services["api"]["healthcheck"]["test"]
    assert ":8000/healthz" in test[-1]
    port = free_port()
    test = [*test[:-1], test[-1].replace(":8000/", f":{port}/")]
    assert run_check(test) != 0  # nothing listens yet
    env = {"VILLAGE_INFLUX_URL": influxdb.url, "VILLAGE_INFLUX_DB": database_name, "VILLAGE_DATA_DIR": str(tmp_path)}
    api = village_process("api", "api", "--port", str(port), env=env, log_dir=tmp_path)
    try:
        eventually(lambda: run_check(test) == 0, timeout_s=20, what=f"API healthy\n{api.log_tail()}")
    finally:
        assert api.stop() == 0


def test_the_simulator_check_sees_its_broker_connection(services, site, production_broker) -> None:
    test = services["simulator"]["healthcheck"]["test"]
    assert "':22B3'" in test[-1]  # 8883, the broker's TLS port in the stack
    test = [*test[:-1], test[-1].replace("':22B3'", f"':{production_broker.tls_port:04X}'")]
    assert run_check(test) != 0
    with logged_in(production_broker.tls_port, "_simulator", site.passwords["_simulator"], ca_file=site.ca_file):
        assert run_check(test) == 0


def test_the_ingestor_check_asks_the_metrics_port(services) -> None:
    """The ingestor serves Prometheus metrics with prometheus_client's server on VILLAGE_INGEST_METRICS_PORT."""
    test = services["ingest"]["healthcheck"]["test"]
    port = free_port()
    env = {"VILLAGE_INGEST_METRICS_PORT": str(port)}
    assert run_check(test, env=env) != 0  # nothing serves: unhealthy
    server, thread = start_http_server(port, addr="127.0.0.1", registry=CollectorRegistry())
    try:
        assert run_check(test, env=env) == 0
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
