"""`village devices provision`: files, modes, rotation and revocation; credentials printed once."""

from __future__ import annotations

import stat
import subprocess
import sys
from pathlib import Path

import pytest

from devices.config import MqttEndpoint
from tests.deploy.site import Site, registry_of
from village.broker_auth import parse_password_file, verify_password
from village.errors import ProvisionError
from village.processes import child_environment
from village.provision import MqttSecrets

DEVICES = {"phu-an": ["dev-a", "dev-b"], "an-tay": ["dev-c"]}


@pytest.fixture
def site(tmp_path: Path) -> Site:
    site = Site(tmp_path / "site", registry_of(DEVICES))
    site.write_registry(site.registry)
    return site


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def env_value(path: Path, key: str) -> str:
    return next(line.split("=", 1)[1] for line in path.read_text().splitlines() if line.startswith(f"{key}="))


def test_first_run_writes_private_files_whose_passwords_the_hashes_accept(site: Site) -> None:
    result = site.provision(device_url="mqtts://iot.example.vn:8883")
    secrets = site.secrets
    assert set(result.created) == {"_ingest", "_monitor", "dev-a", "dev-b", "dev-c"}
    hashes = parse_password_file(secrets.password_file.read_text())
    assert set(hashes) == set(result.created)
    for directory in (secrets.root, secrets.broker_dir, secrets.root / "services", secrets.root / "devices"):
        assert mode(directory) == 0o700, directory
    private = [secrets.password_file, secrets.acl_file, *secrets.root.glob("*/*.env")]
    assert len(private) == 2 + 2 + 3
    assert all(mode(path) == 0o600 for path in private)
    for device in ("dev-a", "dev-b", "dev-c"):
        sheet = secrets.device_sheet(device)
        assert env_value(sheet, "MQTT_USERNAME") == device
        assert verify_password(env_value(sheet, "MQTT_PASSWORD"), hashes[device])
        assert env_value(sheet, "MQTT_URL") == "mqtts://iot.example.vn:8883"
    assert env_value(secrets.device_sheet("dev-c"), "TOPIC_TELEMETRY") == "village/an-tay/dev-c/telemetry"
    ingest = MqttEndpoint.parse(env_value(secrets.service_env("_ingest"), "VILLAGE_MQTT_URL"))
    assert (ingest.tls, ingest.host, ingest.port, ingest.username) == (True, "mosquitto", 8883, "_ingest")
    assert ingest.password is not None
    assert verify_password(ingest.password, hashes["_ingest"])
    assert verify_password(env_value(secrets.service_env("_monitor"), "MQTT_MONITOR_PASSWORD"), hashes["_monitor"])
    assert not secrets.service_env("_simulator").exists()


def test_running_again_changes_no_password(site: Site) -> None:
    site.provision()
    before = {p: p.read_bytes() for p in site.secrets.root.rglob("*") if p.is_file()}
    result = site.provision()
    assert (result.created, result.rotated, result.revoked, dict(result.passwords)) == ((), (), (), {})
    assert {p: p.read_bytes() for p in site.secrets.root.rglob("*") if p.is_file()} == before


def test_rotating_one_device_touches_no_other_line(site: Site) -> None:
    site.provision()
    before = site.secrets.password_file.read_text().splitlines()
    old_sheet = site.secrets.device_sheet("dev-b").read_text()
    result = site.provision(rotate=["dev-b"])
    after = site.secrets.password_file.read_text().splitlines()
    assert result.rotated == ("dev-b",)
    assert [line for line in after if not line.startswith("dev-b:")] == [
        line for line in before if not line.startswith("dev-b:")
    ]
    new_hash = parse_password_file("\n".join(after))["dev-b"]
    assert verify_password(result.passwords["dev-b"], new_hash)
    assert not verify_password(env_value_from(old_sheet, "MQTT_PASSWORD"), new_hash)
    assert env_value(site.secrets.device_sheet("dev-b"), "MQTT_PASSWORD") == result.passwords["dev-b"]


def env_value_from(text: str, key: str) -> str:
    return next(line.split("=", 1)[1] for line in text.splitlines() if line.startswith(f"{key}="))


def test_a_device_removed_from_the_registry_is_revoked(site: Site) -> None:
    site.provision()
    site.write_registry(registry_of({"phu-an": ["dev-a", "dev-b"], "an-tay": []}))
    result = site.provision()
    assert result.revoked == ("dev-c",)
    assert "dev-c" not in parse_password_file(site.secrets.password_file.read_text())
    assert "dev-c" not in site.secrets.acl_file.read_text()
    assert not site.secrets.device_sheet("dev-c").exists()


def test_an_unknown_rotation_writes_nothing(site: Site) -> None:
    site.provision()
    before = site.secrets.password_file.read_bytes()
    with pytest.raises(ProvisionError, match="dev-z"):
        site.provision(rotate=["dev-z"])
    assert site.secrets.password_file.read_bytes() == before


def test_a_lost_service_env_file_gets_a_new_password(site: Site) -> None:
    site.provision()
    site.secrets.service_env("_ingest").unlink()
    result = site.provision()
    assert result.rotated == ("_ingest",)
    assert site.secrets.service_env("_ingest").exists()


def test_the_simulator_login_is_opt_in_and_stays_until_removed(site: Site) -> None:
    assert "_simulator" in site.provision(simulator=True).created
    assert "_simulator" in site.provision().kept
    assert site.provision(simulator=False).revoked == ("_simulator",)
    assert not site.secrets.service_env("_simulator").exists()


def run_cli(site: Site, *args: str) -> subprocess.CompletedProcess[str]:
    env = child_environment(VILLAGE_DATA_DIR=str(site.data_dir))
    env.pop("VILLAGE_REGISTRY_FILE", None)
    return subprocess.run(
        [sys.executable, "-m", "village", "devices", "provision", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=site.data_dir,
        timeout=60,
        check=False,
    )


def test_the_command_prints_new_device_passwords_once(site: Site) -> None:
    first = run_cli(site)
    assert first.returncode == 0, first.stderr
    sheets = MqttSecrets(site.data_dir / "mqtt")
    passwords = {d: env_value(sheets.device_sheet(d), "MQTT_PASSWORD") for d in ("dev-a", "dev-b", "dev-c")}
    for device, password in passwords.items():
        assert f"{device}  {password}" in first.stdout
    ingest_password = MqttEndpoint.parse(env_value(sheets.service_env("_ingest"), "VILLAGE_MQTT_URL")).password
    assert ingest_password is not None
    assert ingest_password not in first.stdout  # service passwords go to their env files only
    again = run_cli(site)
    assert again.returncode == 0, again.stderr
    assert not any(password in again.stdout for password in passwords.values())
    assert "Unchanged: 5 logins" in again.stdout


def test_the_command_explains_a_missing_registry(tmp_path: Path) -> None:
    site = Site(tmp_path, registry_of({}))
    done = run_cli(site)
    assert done.returncode == 1
    assert "no device registry" in done.stderr
