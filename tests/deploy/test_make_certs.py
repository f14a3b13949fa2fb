"""deploy/make-certs.sh with the real openssl: a CA that is never replaced, a broker certificate that can be renewed."""

from __future__ import annotations

import stat
import subprocess
from pathlib import Path

from tests.deploy.site import make_certificates


def openssl(*args: str) -> str:
    return subprocess.run(["openssl", *args], capture_output=True, text=True, check=True, timeout=30).stdout


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_creates_a_ca_and_a_broker_certificate_for_the_given_names(tmp_path: Path) -> None:
    done = make_certificates(tmp_path, "iot.phuan.example.vn", "192.168.1.10")
    assert done.returncode == 0, done.stderr
    tls, ca = tmp_path / "tls", tmp_path / "ca"
    assert {p.name for p in tls.iterdir()} == {"ca.crt", "server.crt", "server.key"}
    assert (mode(ca), mode(ca / "ca.key"), mode(tls / "server.key")) == (0o700, 0o600, 0o600)
    assert (mode(tls), mode(tls / "ca.crt"), mode(tls / "server.crt")) == (0o755, 0o644, 0o644)
    assert (tls / "ca.crt").read_bytes() == (ca / "ca.crt").read_bytes()
    assert "server.crt: OK" in openssl("verify", "-CAfile", str(tls / "ca.crt"), str(tls / "server.crt"))
    names = openssl("x509", "-in", str(tls / "server.crt"), "-noout", "-ext", "subjectAltName")
    for name in ("DNS:localhost", "DNS:mosquitto", "IP Address:127.0.0.1", "DNS:iot.phuan.example.vn"):
        assert name in names
    assert "IP Address:192.168.1.10" in names
    purpose = openssl("x509", "-in", str(tls / "server.crt"), "-noout", "-ext", "extendedKeyUsage,basicConstraints")
    assert "TLS Web Server Authentication" in purpose
    assert "CA:FALSE" in purpose


def test_running_again_changes_nothing_and_renew_keeps_the_ca(tmp_path: Path) -> None:
    assert make_certificates(tmp_path).returncode == 0
    tls = tmp_path / "tls"
    first = {p.name: p.read_bytes() for p in [*tls.iterdir(), tmp_path / "ca" / "ca.key"]}
    assert make_certificates(tmp_path).returncode == 0
    assert {p.name: p.read_bytes() for p in [*tls.iterdir(), tmp_path / "ca" / "ca.key"]} == first
    assert make_certificates(tmp_path, "new.example.vn", renew=True).returncode == 0
    assert (tls / "ca.crt").read_bytes() == first["ca.crt"]  # boards keep trusting the broker
    assert (tmp_path / "ca" / "ca.key").read_bytes() == first["ca.key"]
    assert (tls / "server.crt").read_bytes() != first["server.crt"]
    assert (tls / "server.key").read_bytes() != first["server.key"]
    assert "DNS:new.example.vn" in openssl("x509", "-in", str(tls / "server.crt"), "-noout", "-ext", "subjectAltName")
    assert "server.crt: OK" in openssl("verify", "-CAfile", str(tls / "ca.crt"), str(tls / "server.crt"))


def test_refuses_to_replace_a_ca_whose_key_is_missing(tmp_path: Path) -> None:
    assert make_certificates(tmp_path).returncode == 0
    (tmp_path / "ca" / "ca.key").unlink()
    done = make_certificates(tmp_path)
    assert done.returncode == 1
    assert "without its key" in done.stderr
    assert not (tmp_path / "ca" / "ca.key").exists()
