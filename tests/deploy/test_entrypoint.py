"""deploy/mosquitto/entrypoint.sh: what the container does on start, stop and restart, with the real broker."""

from __future__ import annotations

import stat
import subprocess
from pathlib import Path

from tests.deploy.clients import ACCEPTED, logged_in
from tests.deploy.site import ENTRYPOINT, broker_user
from village.processes import child_environment


def test_queued_messages_and_retained_status_survive_a_restart(site, production_broker) -> None:
    """`docker compose restart mosquitto`: the ingestor's persistent session and its queue are on the volume."""
    port, ca, pw = production_broker.tls_port, site.ca_file, site.passwords
    persistent = {"ca_file": ca, "client_id": "village-ingest-1", "session_expiry_s": 3600}  # as the ingestor
    with logged_in(port, "_ingest", pw["_ingest"], **persistent) as session:
        session.subscribe("village/+/+/telemetry")
    with logged_in(port, "dev-a", pw["dev-a"], ca_file=ca) as device:  # the ingestor is away: the broker queues
        assert device.publish("village/phu-an/dev-a/telemetry", b'{"readings": {"ph": 7.1}}') in ACCEPTED
        assert device.publish("village/phu-an/dev-a/status", b"online", retain=True) in ACCEPTED
    assert production_broker.halt() == 0  # SIGTERM to the entrypoint: the broker saves and exits cleanly
    data = production_broker.work_dir / "data"
    assert (data / "mosquitto.db").exists()
    assert data.stat().st_uid == (data / "mosquitto.db").stat().st_uid  # written by the broker's own user
    production_broker.start()
    with logged_in(
        port, "_ingest", pw["_ingest"], ca_file=ca, client_id="village-ingest-1", session_expiry_s=3600
    ) as s:
        queued = [(m.topic, m.payload) for m in s.messages(timeout_s=5)]
        s.subscribe("village/phu-an/dev-a/status")
        retained = [(m.topic, m.payload, m.retain) for m in s.messages(timeout_s=5)]
    assert queued == [("village/phu-an/dev-a/telemetry", b'{"readings": {"ph": 7.1}}')]
    assert retained == [("village/phu-an/dev-a/status", b"online", True)]


def test_the_broker_copies_are_private_to_the_broker_user(production_broker) -> None:
    auth = production_broker.work_dir / "auth"
    assert stat.S_IMODE(auth.stat().st_mode) == 0o700
    for name in ("passwd", "acl", "server.crt", "server.key"):
        info = (auth / name).stat()
        assert stat.S_IMODE(info.st_mode) == 0o600, name
        assert info.st_uid == auth.stat().st_uid, name
    assert auth.owner() == broker_user()


def test_without_provisioned_files_it_says_what_to_run(tmp_path: Path) -> None:
    env = child_environment(
        VILLAGE_BROKER_AUTH_SRC=str(tmp_path / "mqtt" / "broker"),
        VILLAGE_BROKER_TLS_SRC=str(tmp_path / "tls"),
        VILLAGE_BROKER_RUN_DIR=str(tmp_path / "run"),
        VILLAGE_BROKER_USER=broker_user(),
    )
    done = subprocess.run(
        ["/bin/sh", str(ENTRYPOINT)], env=env, capture_output=True, text=True, timeout=30, check=False
    )
    assert done.returncode == 78  # EX_CONFIG: the container restarts and says so again, until fixed
    assert "deploy/make-certs.sh and village devices provision" in done.stderr
    assert not (tmp_path / "run").exists()
