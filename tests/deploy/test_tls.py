"""TLS with the generated CA: the ingestor and the simulator connect; plain MQTT and foreign CAs are turned away."""

from __future__ import annotations

from pathlib import Path

from devices.registry import parse_registry
from tests.deploy.clients import Refusal, Session, try_connect
from tests.deploy.site import make_certificates, service_url, tls_ingestor
from tests.helpers import eventually, influx_query, village_process


def test_the_simulator_publishes_over_tls_and_the_ingestor_stores_it(
    site, production_broker, influxdb, database_name, tmp_path: Path
) -> None:
    # ready means subscribed over mqtts://, the broker's certificate verified against the generated CA
    with tls_ingestor(site, production_broker, influxdb.url, database_name, tmp_path) as ingestor:
        assert ingestor.ready.is_set()
        registry_file = tmp_path / "simulated.toml"
        simulator = village_process(
            "simulate",
            "simulate", "--villages", "1", "--devices-per-kind", "1", "--count", "2", "--interval", "0",
            "--registry", str(registry_file),
            env={
                "VILLAGE_MQTT_URL": service_url(site, production_broker, "_simulator"),
                "VILLAGE_MQTT_CA_FILE": str(site.ca_file),
                "VILLAGE_DATA_DIR": str(tmp_path / "simulator"),
            },
            log_dir=tmp_path,
        )  # fmt: skip
        assert simulator.popen.wait(60) == 0, simulator.log_tail()
        boards = {device.id for device in parse_registry(registry_file.read_text()).devices}
        assert len(boards) >= 3

        def stored_boards() -> set[str]:
            shown = influx_query(influxdb.url, database_name, 'SHOW TAG VALUES WITH KEY = "device"')
            return {str(row["value"]) for series in shown[0] for row in series.records()}

        eventually(lambda: stored_boards() >= boards, what="readings of every simulated board")


def test_plain_mqtt_on_the_tls_port_fails(site, production_broker) -> None:
    outcome = try_connect(production_broker.tls_port, username="dev-a", password=site.passwords["dev-a"])
    assert outcome == Refusal(None, "no CONNACK")


def test_a_broker_certificate_from_another_ca_is_refused(site, production_broker, tmp_path: Path) -> None:
    other = tmp_path / "other-install"
    assert make_certificates(other).returncode == 0
    outcome = try_connect(
        production_broker.tls_port,
        username="dev-a",
        password=site.passwords["dev-a"],
        ca_file=other / "tls" / "ca.crt",
    )
    assert isinstance(outcome, Refusal)
    assert outcome.error is not None
    assert "CERTIFICATE_VERIFY_FAILED" in outcome.error


def test_the_certificate_names_the_broker_as_boards_and_containers_reach_it(site, production_broker) -> None:
    accepted = try_connect(
        production_broker.tls_port, username="dev-a", password=site.passwords["dev-a"], ca_file=site.ca_file
    )
    assert isinstance(accepted, Session)  # host name localhost checked against the certificate
    accepted.client.loop_stop()
    accepted.client.disconnect()
