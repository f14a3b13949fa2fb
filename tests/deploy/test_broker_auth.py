"""The password file format against the real `mosquitto_passwd`, and the ACL text the broker will read."""

from __future__ import annotations

import base64
import re
import subprocess
from pathlib import Path

from devices.registry import RegisteredDevice
from village.broker_auth import (
    device_account,
    format_acl,
    format_password_file,
    hash_password,
    new_password,
    parse_password_file,
    service_accounts,
    verify_password,
)
from village.services import require_binary

MOSQUITTO_PASSWD_LINE = re.compile(r"^(?P<user>[^:]+):\$7\$(?P<iterations>\d+)\$(?P<salt>[^$]+)\$(?P<hash>[^$]+)$")


def mosquitto_passwd_line(tmp_path: Path, username: str, password: str) -> str:
    passwd = tmp_path / "passwd"
    passwd.unlink(missing_ok=True)
    subprocess.run([require_binary("mosquitto_passwd"), "-c", "-b", str(passwd), username, password], check=True)
    return passwd.read_text().strip()


def test_our_hash_is_what_mosquitto_passwd_writes(tmp_path: Path) -> None:
    for password in ("s3cret", new_password(), "mật khẩu có dấu"):
        reference = MOSQUITTO_PASSWD_LINE.match(mosquitto_passwd_line(tmp_path, "dev-a", password))
        assert reference is not None
        salt = base64.b64decode(reference["salt"])
        ours = hash_password(password, salt=salt, iterations=int(reference["iterations"]))
        assert f"dev-a:{ours}" == reference.group(0)  # byte for byte, given the same salt
        assert verify_password(password, ours)
        assert not verify_password(password + "x", ours)


def test_fresh_hashes_have_mosquitto_passwd_shape_and_random_salts() -> None:
    first, second = hash_password("same"), hash_password("same")
    assert first != second
    for encoded in (first, second):
        match = MOSQUITTO_PASSWD_LINE.match(f"u:{encoded}")
        assert match is not None
        assert int(match["iterations"]) == 101
        assert (len(base64.b64decode(match["salt"])), len(base64.b64decode(match["hash"]))) == (12, 64)


def test_passwords_are_long_random_and_url_safe() -> None:
    passwords = {new_password() for _ in range(100)}
    assert len(passwords) == 100
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{24}", p) for p in passwords)


def test_password_file_round_trip_keeps_lines_verbatim(tmp_path: Path) -> None:
    line = mosquitto_passwd_line(tmp_path, "dev-a", "pw")
    text = f"# a comment\n\n{line}\nsvc:$6$old$sha512line==\n"
    entries = parse_password_file(text)
    assert entries == {"dev-a": line.split(":", 1)[1], "svc": "$6$old$sha512line=="}
    assert format_password_file(entries) == f"{line}\nsvc:$6$old$sha512line==\n"


def test_a_device_may_write_only_its_own_topics_and_read_only_its_rejections() -> None:
    device = RegisteredDevice(id="phu-an-water-01", village="phu-an", kind="water", name="Trạm", lat=11.0, lon=106.6)
    acl = format_acl([device_account(device)])
    rules = [line for line in acl.splitlines() if line and not line.startswith("#")]
    assert rules == [
        "user phu-an-water-01",
        "topic write village/phu-an/phu-an-water-01/telemetry",
        "topic write village/phu-an/phu-an-water-01/senml",
        "topic write village/phu-an/phu-an-water-01/status",
        "topic read village/phu-an/phu-an-water-01/rejected",
    ]


def test_a_device_name_cannot_inject_acl_rules() -> None:
    name = "Trạm 1\nuser _ingest\ntopic write #"
    device = RegisteredDevice(id="d1", village="v1", kind="water", name=name, lat=11.0, lon=106.6)
    acl = format_acl([device_account(device)])
    assert "topic write #" not in acl
    assert acl.count("user ") == 1


def test_service_logins() -> None:
    acl = format_acl(service_accounts(simulator=False))
    rules = [line for line in acl.splitlines() if line and not line.startswith("#")]
    assert rules == [
        "user _ingest",
        "topic read village/#",
        "topic write village/+/+/rejected",
        "user _monitor",
        "topic read $SYS/#",
    ]
    with_simulator = format_acl(service_accounts(simulator=True))
    assert "user _simulator\ntopic write village/+/+/telemetry\n" in with_simulator
