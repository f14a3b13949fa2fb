"""A provisioned village install (registry, certificates, broker logins) and its production broker, per test."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.deploy.site import ProductionBroker, Site, make_certificates, registry_of, start_production_broker

DEVICES = {"phu-an": ["dev-a", "dev-b"], "an-tay": ["dev-c"]}


@pytest.fixture(scope="session")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One CA and broker certificate (deploy/make-certs.sh, real openssl) for the whole session."""
    data_dir = tmp_path_factory.mktemp("certificates")
    done = make_certificates(data_dir, "iot.example.vn")
    assert done.returncode == 0, done.stderr
    return data_dir / "tls"


@pytest.fixture
def site(tmp_path: Path, certificates: Path) -> Site:
    """VILLAGE_DATA_DIR with three devices in two villages, provisioned with the simulator login."""
    data_dir = tmp_path / "site"
    shutil.copytree(certificates, data_dir / "tls")
    site = Site(data_dir, registry_of(DEVICES))
    site.write_registry(site.registry)
    site.provision(simulator=True)
    return site


@pytest.fixture
def production_broker(site: Site) -> Iterator[ProductionBroker]:
    broker = start_production_broker(site)
    yield broker
    broker.stop()
