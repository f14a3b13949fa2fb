"""Farmers' links: a 0600 file apart from the public registry, long random tokens, and the officer's commands."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from api.web.farmers import (
    Farmer,
    Farmers,
    FarmersFile,
    FarmersFileError,
    load_farmers,
    new_token,
    parse_farmers,
    save_farmers,
    slug,
)
from devices.registry import format_registry
from tests.web import scene
from village.cli import main


def _farmer(farmer_id: str = "an", **changes: object) -> Farmer:
    values: dict[str, object] = {"id": farmer_id, "name": "Nguyễn Văn An", "devices": ("phu-an-agri-01",)}
    return Farmer.model_validate({"token": new_token(), **values, **changes})


def test_tokens_are_long_random_and_url_safe() -> None:
    tokens = {new_token() for _ in range(1000)}
    assert len(tokens) == 1000
    assert all(len(t) == 22 and t.replace("-", "").replace("_", "").isalnum() for t in tokens)


def test_the_file_is_written_0600_and_reads_back(tmp_path: Path) -> None:
    path = tmp_path / "site" / "farmers.toml"
    farmers = Farmers(farmers=(_farmer("an"), _farmer("binh", name="Trần Thị Bình", phone="0912 345 678")))
    save_farmers(path, farmers)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_farmers(path) == farmers
    assert [p.name for p in path.parent.iterdir()] == ["farmers.toml"]  # no temporary file left behind


def test_a_lookup_finds_only_the_exact_token() -> None:
    an, binh = _farmer("an"), _farmer("binh")
    farmers = Farmers(farmers=(an, binh))
    assert farmers.by_token(binh.token) == binh
    assert farmers.by_token(an.token[:-1]) is None
    assert farmers.by_token(an.token + "x") is None
    assert farmers.by_token("") is None


def test_weak_or_shared_tokens_are_refused_and_errors_never_show_a_token() -> None:
    secret = "s3cret-s3cret-s3cret-xyz"
    text = f'[[farmer]]\nid = "a"\nname = "A"\ndevices = ["d"]\ntoken = "{secret}"\n'
    with pytest.raises(FarmersFileError) as shared:
        parse_farmers(text + text.replace('id = "a"', 'id = "b"'))
    assert secret not in str(shared.value)
    with pytest.raises(FarmersFileError) as weak:
        parse_farmers(text.replace(secret, "short"))
    assert "short" not in str(weak.value)
    assert secret not in repr(parse_farmers(text))


def test_the_api_rereads_the_file_and_keeps_the_last_good_one(tmp_path: Path) -> None:
    path = tmp_path / "farmers.toml"
    watched = FarmersFile(path)
    assert watched.current() == Farmers()
    first = Farmers(farmers=(_farmer("an"),))
    save_farmers(path, first)
    assert watched.current() == first
    path.write_text("[[farmer]]\nid = 'broken", encoding="utf-8")
    assert watched.current() == first
    second = first.with_farmer(_farmer("binh"))
    save_farmers(path, second)
    assert watched.current() == second


def test_ids_come_from_vietnamese_names() -> None:
    assert slug("Nguyễn Văn Ân") == "nguyen-van-an"
    assert slug("Đặng Thị Đào") == "dang-thi-dao"
    assert slug("!!!") == "farmer"


@pytest.fixture
def site_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "registry.toml").write_text(format_registry(scene.REGISTRY), encoding="utf-8")
    monkeypatch.setenv("VILLAGE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("VILLAGE_API_PUBLIC_URL", "https://iot.example.gov.vn/")
    monkeypatch.chdir(tmp_path)  # no .env of the checkout
    return tmp_path


def _village(*args: str) -> str:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_an_officer_adds_a_farmer_and_gets_a_link_to_send(site_dir: Path) -> None:
    out = _village("farmers", "add", "--name", "Nguyễn Văn An", "--phone", "0912345678", "--device", "phu-an-agri-01")
    farmers = load_farmers(site_dir / "farmers.toml")
    (farmer,) = farmers.farmers
    assert farmer.id == "nguyen-van-an" and farmer.devices == ("phu-an-agri-01",)
    assert f"https://iot.example.gov.vn/f/{farmer.token}" in out.splitlines()
    assert "warning" not in out
    assert stat.S_IMODE((site_dir / "farmers.toml").stat().st_mode) == 0o600
    listed = _village("farmers", "list")
    assert "nguyen-van-an" in listed and "phu-an-agri-01" in listed and farmer.token not in listed


def test_resending_keeps_the_link_and_new_replaces_it(site_dir: Path) -> None:
    _village("farmers", "add", "--name", "Trần Thị Bình", "--device", "phu-an-agri-02", "--device", "phu-an-agri-03")
    old = load_farmers(site_dir / "farmers.toml").farmers[0].token
    assert _village("farmers", "link", "tran-thi-binh").strip() == f"https://iot.example.gov.vn/f/{old}"
    assert (
        _village("farmers", "link", "tran-thi-binh", "--url", "http://10.0.0.5:8000").strip().endswith(f":8000/f/{old}")
    )
    new = _village("farmers", "link", "tran-thi-binh", "--new").strip().rsplit("/", 1)[1]
    assert new != old and load_farmers(site_dir / "farmers.toml").farmers[0].token == new
    # Changing the devices keeps the link the farmer already has.
    _village("farmers", "add", "--id", "tran-thi-binh", "--name", "Trần Thị Bình", "--device", "phu-an-agri-02")
    (farmer,) = load_farmers(site_dir / "farmers.toml").farmers
    assert farmer.token == new and farmer.devices == ("phu-an-agri-02",)


def test_removing_a_farmer_and_unknown_devices(site_dir: Path) -> None:
    out = _village("farmers", "add", "--name", "Lê Văn Cường", "--device", "no-such-board")
    assert "warning: no-such-board is not in the device registry" in out
    _village("farmers", "remove", "le-van-cuong")
    assert load_farmers(site_dir / "farmers.toml") == Farmers()
    result = CliRunner().invoke(main, ["farmers", "remove", "le-van-cuong"])
    assert result.exit_code == 1 and "no farmer" in result.output
