"""TLS with the generated CA: the ingestor and the simulator connect; plain MQTT and foreign CAs are turned away."""

from __future__ import annotations

from pathlib import Path

from tests.deploy.clients import Refusal, Session, try_connect
from tests.deploy.site import make_certificates, service_url, tls_ingestor
from tests.helpers import eventually, influx_rows, village_process

DEMO_BOARDS = {"phu-an-water-01", "phu-an-air-01", "phu-an-agri-01"}


def test_the_simulator_publishes_over_tls_and_the_ingestor_stores_it(
    site, production_broker, influxdb, database_name, tmp_path: Path
) -> None:
    # ready means subscribed over mqtts://, the broker's certificate verified against the generated CA
    with tls_ingestor(site, production_broker, influxdb.url, database_name, tmp_path) as ingestor:
        assert ingestor.ready.is_set()
        simulator = village_process(
            "simulate",
            "simulate", "--villages", "1", "--devices-per-kind", "1", "--count", "2", "--interval", "0",
            env={
                "VILLAGE_MQTT_URL": service_url(site, production_broker, "_simulator"),
                "VILLAGE_MQTT_CA_FILE": str(site.ca_file),
                "VILLAGE_DATA_DIR": str(tmp_path / "simulator"),
            },
            log_dir=tmp_path,
        )  # fmt: skip
        assert simulator.popen.wait(60) == 0, simulator.log_tail()
        assert "sent 6 messages, 6 acknowledged" in simulator.log_path.read_text()

        def stored_boards() -> set[str]:
            rows = [
                row
                for measurement in ("water", "air", "agri")
                for row in influx_rows(influxdb.url, database_name, f"SELECT * FROM {measurement}")
            ]
            return {str(row["device"]) for row in rows} if len(rows) == 6 else set()

        assert eventually(stored_boards, what="2 messages of each of 3 boards") == DEMO_BOARDS


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
