"""The generated password and ACL files on the real broker, run as production runs it: no device speaks for another."""

from __future__ import annotations

import subprocess

import orjson

from tests.deploy.clients import ACCEPTED, BAD_LOGIN, NOT_AUTHORIZED, Refusal, Session, logged_in, try_connect
from tests.deploy.site import ProductionBroker, Site, registry_of, tls_ingestor
from tests.helpers import eventually, influx_rows
from village.services import require_binary

NOW_MS = 1_764_489_600_000


def telemetry(ph: float, *, ts_ms: int = NOW_MS) -> bytes:
    return orjson.dumps({"ts": ts_ms, "readings": {"ph": ph}})


def login_works(broker: ProductionBroker, site: Site, username: str, password: str) -> bool:
    outcome = try_connect(broker.tls_port, username=username, password=password, ca_file=site.ca_file)
    if isinstance(outcome, Session):
        outcome.client.loop_stop()
        outcome.client.disconnect()
        return True
    return False


def test_a_device_publishes_its_own_topics_and_the_ingestor_stores_them(
    site, production_broker, influxdb, database_name, tmp_path
) -> None:
    with (
        tls_ingestor(site, production_broker, influxdb.url, database_name, tmp_path),
        logged_in(production_broker.tls_port, "dev-a", site.passwords["dev-a"], ca_file=site.ca_file) as device,
    ):
        assert device.publish("village/phu-an/dev-a/telemetry", telemetry(7.2)) in ACCEPTED
        assert device.publish("village/phu-an/dev-a/status", b"online", retain=True) in ACCEPTED
        senml = orjson.dumps([{"bn": "dev-a:", "n": "ph", "v": 7.3, "t": NOW_MS / 1000 + 1}])
        assert device.publish("village/phu-an/dev-a/senml", senml) in ACCEPTED
        rows = eventually(
            lambda: [
                r
                for r in influx_rows(influxdb.url, database_name, "SELECT ph, device, village FROM water")
                if r["time"] == NOW_MS
            ],
            what="the telemetry reading stored",
        )
    assert [(r["ph"], r["device"], r["village"]) for r in rows] == [(7.2, "dev-a", "phu-an")]


def test_a_device_cannot_publish_for_another_device_or_village(
    site, production_broker, influxdb, database_name, tmp_path
) -> None:
    port, ca = production_broker.tls_port, site.ca_file
    with (
        tls_ingestor(site, production_broker, influxdb.url, database_name, tmp_path),
        logged_in(port, "_ingest", site.passwords["_ingest"], ca_file=ca) as observer,
        logged_in(port, "dev-a", site.passwords["dev-a"], ca_file=ca) as device,
    ):
        observer.subscribe("village/#")  # sees everything the broker lets through, as the ingestor does
        forged = [
            "village/phu-an/dev-b/telemetry",  # a neighbour
            "village/an-tay/dev-a/telemetry",  # itself, in another village
            "village/an-tay/dev-c/senml",
            "village/phu-an/dev-b/status",
            "village/phu-an/dev-a/rejected",  # only the ingestor writes these
        ]
        for topic in forged:
            assert device.publish(topic, telemetry(6.0)) == NOT_AUTHORIZED, topic
        assert device.publish("village/phu-an/dev-a/telemetry", telemetry(7.0)) in ACCEPTED  # after the forged ones
        eventually(lambda: influx_rows(influxdb.url, database_name, "SELECT ph FROM water"), what="the genuine reading")
        seen = [message.topic for message in observer.messages(timeout_s=2)]
    assert seen == ["village/phu-an/dev-a/telemetry"]
    rows = influx_rows(influxdb.url, database_name, "SELECT ph, device, village FROM water")
    assert [(r["device"], r["village"], r["ph"]) for r in rows] == [("dev-a", "phu-an", 7.0)]


def test_wrong_unknown_and_anonymous_logins_are_refused(site, production_broker) -> None:
    port, ca = production_broker.tls_port, site.ca_file
    refused = {
        "wrong password": try_connect(port, username="dev-a", password="not-the-password", ca_file=ca),
        "another device's password": try_connect(port, username="dev-a", password=site.passwords["dev-b"], ca_file=ca),
        "unknown user": try_connect(port, username="dev-z", password=site.passwords["dev-a"], ca_file=ca),
        "anonymous": try_connect(port, ca_file=ca),
        "anonymous, plain port": try_connect(production_broker.plain_port),
    }
    for what, outcome in refused.items():
        assert isinstance(outcome, Refusal), what
        assert outcome.reason in {BAD_LOGIN, NOT_AUTHORIZED}, (what, outcome)
    assert login_works(production_broker, site, "dev-a", site.passwords["dev-a"])


def test_a_device_reads_only_its_own_rejection_notices(site, production_broker) -> None:
    port, ca, pw = production_broker.tls_port, site.ca_file, site.passwords
    with (
        logged_in(port, "dev-a", pw["dev-a"], ca_file=ca) as a,
        logged_in(port, "dev-b", pw["dev-b"], ca_file=ca) as b,
        logged_in(port, "_ingest", pw["_ingest"], ca_file=ca) as ingest,
    ):
        a.subscribe("village/#")  # granted, but the ACL filters every delivery
        assert b.publish("village/phu-an/dev-b/telemetry", telemetry(7.1)) in ACCEPTED
        assert b.publish("village/phu-an/dev-b/status", b"online", retain=True) in ACCEPTED
        assert ingest.publish("village/phu-an/dev-b/rejected", b'{"reason": "hard_limit"}') in ACCEPTED
        assert ingest.publish("village/phu-an/dev-a/rejected", b'{"reason": "unknown_quantity"}') in ACCEPTED
        received = a.messages(timeout_s=3)
    assert [(m.topic, m.payload) for m in received] == [
        ("village/phu-an/dev-a/rejected", b'{"reason": "unknown_quantity"}')
    ]


def test_service_logins_do_only_their_job(site, production_broker) -> None:
    port, ca, pw = production_broker.tls_port, site.ca_file, site.passwords
    with (
        logged_in(port, "_ingest", pw["_ingest"], ca_file=ca) as ingest,
        logged_in(port, "_monitor", pw["_monitor"], ca_file=ca) as monitor,
        logged_in(port, "_simulator", pw["_simulator"], ca_file=ca) as simulator,
    ):
        monitor.subscribe("village/#")
        assert ingest.publish("village/phu-an/dev-a/telemetry", telemetry(7.0)) == NOT_AUTHORIZED
        assert monitor.publish("village/phu-an/dev-a/telemetry", telemetry(7.0)) == NOT_AUTHORIZED
        assert simulator.publish("village/phu-an/dev-a/rejected", b"{}") == NOT_AUTHORIZED
        assert simulator.publish("village/any-village/any-board/telemetry", telemetry(7.0)) in ACCEPTED
        assert monitor.messages(timeout_s=1) == []
        monitor.subscribe("$SYS/broker/uptime")
        assert [m.topic for m in monitor.messages(timeout_s=5)] == ["$SYS/broker/uptime"]


def test_rotation_and_revocation_apply_on_reload_and_leave_other_devices_alone(site, production_broker) -> None:
    old = dict(site.passwords)
    lines_before = dict(line.split(":", 1) for line in site.secrets.password_file.read_text().splitlines())
    port, ca = production_broker.tls_port, site.ca_file
    with logged_in(port, "dev-b", old["dev-b"], ca_file=ca) as staying:  # connected across the reload
        site.write_registry(registry_of({"phu-an": ["dev-a", "dev-b"], "an-tay": []}))
        result = site.provision(rotate=["dev-a"])
        assert (result.rotated, result.revoked, result.created) == (("dev-a",), ("dev-c",), ())
        production_broker.reload()  # docker compose kill -s HUP mosquitto
        eventually(lambda: login_works(production_broker, site, "dev-a", site.passwords["dev-a"]), what="new password")
        assert not login_works(production_broker, site, "dev-a", old["dev-a"])
        assert not login_works(production_broker, site, "dev-c", old["dev-c"])
        assert login_works(production_broker, site, "dev-b", old["dev-b"])
        assert staying.publish("village/phu-an/dev-b/telemetry", telemetry(7.0)) in ACCEPTED
    lines_after = dict(line.split(":", 1) for line in site.secrets.password_file.read_text().splitlines())
    assert lines_after["dev-a"] != lines_before["dev-a"]
    unchanged = {name: line for name, line in lines_before.items() if name not in {"dev-a", "dev-c"}}
    assert {name: lines_after[name] for name in unchanged} == unchanged


def test_several_ingestors_share_one_subscription_through_the_acl(
    site, production_broker, influxdb, database_name, tmp_path
) -> None:
    port, ca = production_broker.tls_port, site.ca_file
    args = (site, production_broker, influxdb.url, database_name, tmp_path)
    with (
        tls_ingestor(*args, ingest_share_group="ingest") as first,
        tls_ingestor(*args, ingest_share_group="ingest") as second,
        logged_in(port, "dev-a", site.passwords["dev-a"], ca_file=ca) as device,
    ):
        for i in range(40):
            assert device.publish("village/phu-an/dev-a/telemetry", telemetry(7.0, ts_ms=NOW_MS + i)) in ACCEPTED
        eventually(
            lambda: len(influx_rows(influxdb.url, database_name, "SELECT ph FROM water")) == 40, what="40 readings"
        )

        def shares() -> tuple[int, int] | None:
            counted = (first.service.counters.messages, second.service.counters.messages)
            return counted if sum(counted) == 40 else None

        counted = eventually(shares, what="both ingestors counted their messages")
    assert min(counted) > 0, f"one ingestor got everything: {counted}"


def test_a_board_last_will_marks_it_offline_but_cannot_speak_for_another(site, production_broker) -> None:
    """Boards connect with a retained `offline` last will on their status topic (mosquitto_sub as the board)."""
    port, ca, pw = production_broker.tls_port, site.ca_file, site.passwords
    log = production_broker.work_dir / "broker.log"

    def board(will_topic: str) -> subprocess.Popen[bytes]:
        argv = [
            require_binary("mosquitto_sub"), "-h", "localhost", "-p", str(port), "--cafile", str(ca), "-V", "mqttv5",
            "-u", "dev-a", "-P", pw["dev-a"], "-t", "village/phu-an/dev-a/rejected",
            "--will-topic", will_topic, "--will-payload", "offline", "--will-qos", "1", "--will-retain",
        ]  # fmt: skip
        return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    with logged_in(port, "_ingest", pw["_ingest"], ca_file=ca) as observer:
        observer.subscribe("village/+/+/status")
        boards = [board("village/phu-an/dev-a/status"), board("village/phu-an/dev-b/status")]
        eventually(lambda: log.read_text().count("u'dev-a'") == 2, what="both boards connected (the broker's log)")
        for process in boards:  # the connection drops without DISCONNECT, as when a board loses power
            process.kill()
            process.wait(10)
        wills = [(m.topic, m.payload) for m in observer.messages(timeout_s=3)]
    assert wills == [("village/phu-an/dev-a/status", b"offline")]
    with logged_in(port, "_ingest", pw["_ingest"], ca_file=ca) as later:
        later.subscribe("village/+/+/status")
        assert [(m.topic, m.payload, m.retain) for m in later.messages(timeout_s=3)] == [
            ("village/phu-an/dev-a/status", b"offline", True)
        ]
