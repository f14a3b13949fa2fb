"""docker-compose.yml, read as docker compose reads it: every service supervised, data kept, secrets required."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from api.settings import ApiSettings
from ingest.settings import IngestSettings
from tests.deploy.compose import (
    COMPOSE_FILE,
    ENV_EXAMPLE,
    PYPROJECT,
    MissingVariableError,
    env_example_documented,
    env_example_values,
    environment_of,
    raw_compose,
    resolved_compose,
    same_path,
    variables_read_by_the_code,
    variables_used,
    volume_mounts,
)
from tests.deploy.site import BROKER_CONFIG, DEPLOY, REPO
from tests.helpers import village_process
from village.cli import main as village_command
from village.provision import SERVICE_URL, MqttSecrets
from village.services import MOSQUITTO_LIMITS

APP_SERVICES = ("ingest", "api", "simulator")
SECRETS = ("INFLUXDB_ADMIN_PASSWORD", "INFLUXDB_READ_USER_PASSWORD", "GRAFANA_ADMIN_PASSWORD")


@pytest.fixture
def officer_env() -> dict[str, str]:
    """A .env as the officer leaves it: .env.example with the passwords filled in."""
    return {**env_example_values(), **{name: f"{name.lower()}-0123456789" for name in SECRETS}}


@pytest.fixture
def services(officer_env: dict[str, str]) -> dict[str, Any]:
    resolved: dict[str, Any] = resolved_compose(officer_env)["services"]
    return resolved


def test_every_service_has_a_healthcheck_and_restarts_by_itself(services: dict[str, Any]) -> None:
    assert set(services) == {"mosquitto", "influxdb", "grafana", "ingest", "api", "simulator"}
    for name, service in services.items():
        assert service.get("restart") in {"always", "unless-stopped"}, name
        check = service.get("healthcheck", {})
        assert not check.get("disable"), name
        assert check["test"][0] in {"CMD", "CMD-SHELL"} and len(check["test"]) > 1, name
        assert {"interval", "timeout", "retries"} <= set(check), name


def test_services_start_only_after_what_they_need_is_healthy(services: dict[str, Any]) -> None:
    needs = {
        "ingest": {"mosquitto", "influxdb"},
        "api": {"influxdb"},
        "grafana": {"influxdb"},
        "simulator": {"mosquitto"},
    }
    for name, service in services.items():
        depends = service.get("depends_on", {})
        assert set(depends) == needs.get(name, set()), name
        assert all(condition == {"condition": "service_healthy"} for condition in depends.values()), name


def test_images_are_pinned_and_grafana_version_is_written_down(services: dict[str, Any]) -> None:
    exact = re.compile(r"^[a-z0-9./-]+:\d+\.\d+\.\d+$")
    for name, service in services.items():
        assert exact.match(service["image"]), f"{name}: {service['image']} is not pinned to an exact version"
    grafana_version = services["grafana"]["image"].split(":")[1]
    header = COMPOSE_FILE.read_text().split("\nname:")[0]
    assert f"GRAFANA_VERSION={grafana_version}" in header
    assert f"GRAFANA_VERSION={grafana_version}" in (REPO / "docs" / "deployment.md").read_text()
    for component, service in (("MOSQUITTO", "mosquitto"), ("INFLUXDB", "influxdb")):
        assert f"{component}_VERSION={services[service]['image'].split(':')[1]}" in header


def test_the_application_services_run_village_subcommands_from_one_image_built_here(
    services: dict[str, Any],
) -> None:
    images = {services[name]["image"] for name in APP_SERVICES}
    assert images == {f"smart-village:{PYPROJECT['project']['version']}"}
    for name in APP_SERVICES:
        service = services[name]
        assert service["build"] == "."
        assert service["init"] is True, f"{name}: PID 1 should be an init that forwards signals"
        assert service["command"][0] in village_command.commands, name


def test_broker_database_and_ingestor_data_live_in_named_volumes(services: dict[str, Any]) -> None:
    volumes = raw_compose()["volumes"]
    for service, target in (
        ("mosquitto", "/mosquitto/data"),
        ("influxdb", "/var/lib/influxdb"),
        ("grafana", "/var/lib/grafana"),
        ("ingest", "/data"),
    ):
        sources = [source for source, mounted in volume_mounts(services[service]) if mounted == target]
        assert len(sources) == 1, (service, target)
        assert sources[0] in volumes, f"{service}: {target} must be a named volume"
    assert "/mosquitto/data/" in BROKER_CONFIG.read_text()  # where mosquitto persists
    assert environment_of(services["ingest"])["VILLAGE_DATA_DIR"] == "/data"  # where the ingestor spools


def test_grafana_provisioning_is_mounted_from_the_generated_files(services: dict[str, Any]) -> None:
    mounts = {target: source for source, target in volume_mounts(services["grafana"])}
    assert same_path(mounts["/etc/grafana/provisioning"], Path("dashboards/provisioning"))
    assert "/etc/grafana/provisioning:ro" in str(services["grafana"]["volumes"])
    assert environment_of(services["grafana"])["GF_SECURITY_ADMIN_PASSWORD"] == ("grafana_admin_password-0123456789")


def test_the_broker_gets_exactly_what_provisioning_and_make_certs_write(
    services: dict[str, Any], officer_env: dict[str, str]
) -> None:
    data_dir = Path(officer_env["VILLAGE_DATA_DIR"])
    secrets = MqttSecrets(data_dir / "mqtt")
    broker = services["mosquitto"]
    mounts = {target: source for source, target in volume_mounts(broker)}
    assert same_path(mounts["/village/auth"], secrets.broker_dir)
    assert same_path(mounts["/village/tls"], data_dir / "tls")
    assert same_path(mounts["/mosquitto/config/mosquitto.conf"], BROKER_CONFIG.relative_to(REPO))
    assert same_path(mounts["/village/entrypoint.sh"], Path("deploy/mosquitto/entrypoint.sh"))
    assert broker["entrypoint"] == ["/bin/sh", "/village/entrypoint.sh"]
    assert same_path(broker["env_file"][0], secrets.service_env("_monitor"))
    assert same_path(services["ingest"]["env_file"][0], secrets.service_env("_ingest"))
    assert same_path(services["simulator"]["env_file"][0]["path"], secrets.service_env("_simulator"))
    entrypoint = (DEPLOY / "mosquitto" / "entrypoint.sh").read_text()
    assert "auth_src=${VILLAGE_BROKER_AUTH_SRC:-/village/auth}" in entrypoint
    assert "tls_src=${VILLAGE_BROKER_TLS_SRC:-/village/tls}" in entrypoint
    for service in ("ingest", "simulator"):
        assert environment_of(services[service])["VILLAGE_MQTT_CA_FILE"] == "/etc/village/tls/ca.crt"
        assert "/etc/village" in {t: s for s, t in volume_mounts(services[service])}
    assert SERVICE_URL == "mqtts://mosquitto:8883"  # the broker's service name and TLS port, below
    assert "8883" in str(broker["ports"][0]).rsplit(":", 1)[1]


def test_the_broker_requires_logins_and_never_drops_queued_data() -> None:
    config = BROKER_CONFIG.read_text()
    assert MOSQUITTO_LIMITS in config  # the same limits `village up` and the tests run with
    settings = {line.split()[0]: line.split(None, 1)[1] for line in config.splitlines() if line and line[0] != "#"}
    assert settings["allow_anonymous"] == "false"
    assert settings["password_file"] == "/mosquitto/auth/passwd"
    assert settings["acl_file"] == "/mosquitto/auth/acl"
    assert settings["persistence"] == "true"


def test_influxdb_has_authentication_on_and_the_services_log_in(services: dict[str, Any]) -> None:
    influx = environment_of(services["influxdb"])
    assert influx["INFLUXDB_HTTP_AUTH_ENABLED"] == "true"
    assert influx["INFLUXDB_ADMIN_PASSWORD"] == "influxdb_admin_password-0123456789"
    ingest, api = environment_of(services["ingest"]), environment_of(services["api"])
    assert (ingest["VILLAGE_INFLUX_USERNAME"], ingest["VILLAGE_INFLUX_PASSWORD"]) == (
        influx["INFLUXDB_ADMIN_USER"],
        influx["INFLUXDB_ADMIN_PASSWORD"],
    )
    assert (api["VILLAGE_INFLUX_USERNAME"], api["VILLAGE_INFLUX_PASSWORD"]) == (
        influx["INFLUXDB_READ_USER"],
        influx["INFLUXDB_READ_USER_PASSWORD"],
    )
    assert ingest["VILLAGE_INFLUX_DB"] == api["VILLAGE_INFLUX_DB"] == influx["INFLUXDB_DB"]


def test_the_ingestor_rejects_unknown_devices_and_keeps_a_stable_client_id(services: dict[str, Any]) -> None:
    ingest = environment_of(services["ingest"])
    assert ingest["VILLAGE_INGEST_UNKNOWN_DEVICES"] == "reject"
    assert ingest["VILLAGE_INGEST_CLIENT_ID"] == "village-ingest-1"
    assert ingest["VILLAGE_REGISTRY_FILE"] == "/etc/village/registry.toml"
    assert "VILLAGE_INGEST_METRICS_PORT" in " ".join(services["ingest"]["healthcheck"]["test"])


def test_the_stack_environment_is_valid_settings(
    services: dict[str, Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Each app container's variables, as resolved, build its settings class (types, choices, ranges)."""
    monkeypatch.chdir(tmp_path)  # no stray .env
    for variable in variables_read_by_the_code():
        monkeypatch.delenv(variable, raising=False)
    provisioned = {"VILLAGE_MQTT_URL": "mqtts://_ingest:Abc-123_xyz@mosquitto:8883"}  # from ingest.env
    with monkeypatch.context() as patch:
        for key, value in {**environment_of(services["ingest"]), **provisioned}.items():
            patch.setenv(key, value)
        ingest = IngestSettings()
    assert (ingest.mqtt.tls, ingest.mqtt.username, ingest.influx_url) == (True, "_ingest", "http://influxdb:8086")
    assert ingest.ingest_metrics_port == 9100
    with monkeypatch.context() as patch:
        for key, value in environment_of(services["api"]).items():
            patch.setenv(key, value)
        api = ApiSettings()
    assert (api.influx_url, api.api_public_read, bool(api.api_tokens)) == ("http://influxdb:8086", False, False)


def test_every_variable_the_code_reads_is_documented_in_env_example() -> None:
    missing = sorted(set(variables_read_by_the_code()) - env_example_documented())
    assert not missing, f"add to .env.example (with a comment saying what it does): {missing}"


def test_the_stack_sets_only_variables_the_code_reads(services: dict[str, Any]) -> None:
    known = set(variables_read_by_the_code())
    for name, service in services.items():
        unknown = {key for key in environment_of(service) if key.startswith("VILLAGE_")} - known
        assert not unknown, f"{name} sets variables no settings class reads: {unknown}"


def test_every_variable_compose_substitutes_is_in_env_example() -> None:
    missing = sorted(variables_used(COMPOSE_FILE.read_text()) - env_example_documented())
    assert not missing, f"document in .env.example: {missing}"


def test_no_secret_is_in_the_repository_and_compose_refuses_to_start_without_them() -> None:
    with pytest.raises(MissingVariableError, match=r"INFLUXDB_ADMIN_PASSWORD|INFLUXDB_READ_USER_PASSWORD|GRAFANA"):
        resolved_compose(env_example_values())  # .env.example as shipped: passwords empty
    assert all(env_example_values()[name] == "" for name in SECRETS)
    for name, service in raw_compose()["services"].items():
        for key, value in environment_of(service).items():
            if "PASSWORD" in key or "TOKEN" in key:
                assert re.fullmatch(r"\$\{[A-Z_]+(:\?[^}]+|:-\[\])\}", value), f"{name}.{key} = {value!r}"
    ignored = subprocess.run(
        ["git", "check-ignore", ".env", ".village/mqtt/broker/passwd", ".village/tls/server.key"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.split()
    assert ignored == [".env", ".village/mqtt/broker/passwd", ".village/tls/server.key"]
    assert ENV_EXAMPLE.name not in ignored


def test_the_simulator_is_a_demo_profile_whose_boards_are_in_the_demo_registry(
    services: dict[str, Any], broker, tmp_path: Path
) -> None:
    """deploy/demo-registry.toml is what `village simulate` registers with the compose stack's options."""
    simulator = services["simulator"]
    assert simulator["profiles"] == ["sim"]
    options = dict(zip(simulator["command"][1::2], simulator["command"][2::2], strict=True))
    fleet = [arg for key in ("--villages", "--devices-per-kind", "--seed") for arg in (key, options[key])]
    written = tmp_path / "registry.toml"
    simulate = village_process(
        "simulate",
        *("simulate", *fleet, "--count", "1", "--interval", "0", "--registry", str(written)),
        env={"VILLAGE_MQTT_URL": broker.url, "VILLAGE_DATA_DIR": str(tmp_path / "data")},
        log_dir=tmp_path,
    )
    assert simulate.popen.wait(60) == 0, simulate.log_tail()
    assert (DEPLOY / "demo-registry.toml").read_text() == written.read_text(), (
        f"regenerate deploy/demo-registry.toml: village simulate {' '.join(fleet)} --count 1 --registry FILE"
    )
