"""Scenarios as files: which communes, how many boards of each kind, how they report, and what goes wrong.

A scenario is TOML (see simulators/scenarios/*.toml, shipped with the package):

    name = "demo"
    seed = 1
    villages = ["an-tay", "dau-tieng"]      # built-in communes (villages.py) or [[village]] tables below
    [faults]                                # defaults for every group (all rates 0 when absent)
    dropout = 0.01
    [[group]]                               # boards of one kind and behaviour, `count` per village
    kind = "water"
    count = 4
    interval_s = 60
    format = "native"                       # native | senml
    mode = "online"                         # online (Wi-Fi always on) | deep_sleep (wake, buffer, upload)
    [group.faults]                          # overrides the scenario's faults for this group
    nan = 0.01
"""

from __future__ import annotations

import math
import tomllib
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from devices.ids import Identifier
from devices.payload import MAX_BATCH_OBJECTS
from devices.registry import DeviceKind, RegisteredDevice, Registry, Village
from simulators.faults import FaultRates
from simulators.power import Supply
from simulators.villages import DEMO_VILLAGES

KINDS: tuple[DeviceKind, ...] = ("water", "air", "agri")
KIND_NAMES_VI: dict[DeviceKind, str] = {"water": "Trạm nước", "air": "Trạm không khí", "agri": "Cảm biến ruộng"}

Format = Literal["native", "senml"]
Mode = Literal["online", "deep_sleep"]
Clock = Literal["ntp", "none", "epoch1970"]


class ScenarioError(ValueError):
    """A scenario file that cannot be used; the message says which and why."""


class GroupSpec(BaseModel):
    """Boards of one kind that behave alike."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: DeviceKind
    count: int = Field(1, ge=0, le=10_000, description="boards per village")
    interval_s: float = Field(60.0, ge=0, description="seconds between two samples (deep sleep: between wakes)")
    jitter: float = Field(0.02, ge=0, lt=1, description="± share of the interval each sample wanders")
    format: Format = "native"
    mode: Mode = "online"
    upload_every: int = Field(6, ge=1, le=MAX_BATCH_OBJECTS, description="deep sleep: wakes per upload")
    supply: Supply = Supply.SOLAR
    capacity_mah: float = Field(3000.0, gt=0)
    panel_ma: float = Field(350.0, ge=0, description="solar panel current in full clear-sky sun")
    clock: Clock = "ntp"
    outages_per_day: float = Field(0.0, ge=0, description="Wi-Fi outages (online boards buffer, then flush)")
    outage_minutes: tuple[float, float] = (2.0, 30.0)
    max_buffer: int = Field(600, ge=1, description="samples a board keeps while it cannot send (oldest lost)")
    flush_batch: int = Field(100, ge=1, le=MAX_BATCH_OBJECTS, description="objects per store-and-forward array")
    seq_start: int = Field(0, ge=0, lt=2**32, description="first seq after boot (near 2**32 to test wrapping)")
    faults: FaultRates | None = None


class Scenario(BaseModel):
    """Everything a simulated fleet is made of."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = "scenario"
    description: str = ""
    seed: int = 1
    villages: tuple[Identifier, ...] = ()
    village: tuple[Village, ...] = ()
    """Communes defined in the file, in addition to the built-in ones."""
    faults: FaultRates = FaultRates()
    group: tuple[GroupSpec, ...] = ()

    @model_validator(mode="after")
    def _known_villages(self) -> Scenario:
        known = {v.id for v in (*DEMO_VILLAGES, *self.village)}
        unknown = [v for v in self.villages if v not in known]
        if unknown:
            raise ValueError(f"unknown villages {unknown}; define them as [[village]] tables")
        return self

    def chosen_villages(self) -> tuple[Village, ...]:
        """The communes this scenario runs in, in order (all defined ones when `villages` is empty)."""
        catalogue = {v.id: v for v in (*DEMO_VILLAGES, *self.village)}
        ids = self.villages or tuple(v.id for v in self.village) or tuple(v.id for v in DEMO_VILLAGES[:3])
        return tuple(catalogue[i] for i in ids)

    def faults_of(self, group: GroupSpec) -> FaultRates:
        return group.faults if group.faults is not None else self.faults

    def with_overrides(
        self,
        *,
        villages: int | None = None,
        devices_per_kind: int | None = None,
        interval_s: float | None = None,
        seed: int | None = None,
        no_faults: bool = False,
    ) -> Scenario:
        """The scenario with command-line overrides applied."""
        update: dict[str, object] = {}
        if villages is not None:
            update["villages"] = tuple(v.id for v in self.chosen_villages()[:villages])
        groups = list(self.group)
        if devices_per_kind is not None:
            groups = _resized(groups, devices_per_kind)
        if interval_s is not None:
            groups = [g.model_copy(update={"interval_s": interval_s}) for g in groups]
        if no_faults:
            groups = [g.model_copy(update={"faults": FaultRates()}) for g in groups]
            update["faults"] = FaultRates()
        update["group"] = tuple(groups)
        if seed is not None:
            update["seed"] = seed
        return self.model_copy(update=update)


def _resized(groups: list[GroupSpec], per_kind: int) -> list[GroupSpec]:
    """Keep `per_kind` boards of each kind per village, filling groups in order (the last one grows)."""
    resized: list[GroupSpec] = []
    for kind in KINDS:
        of_kind = [g for g in groups if g.kind == kind] or [GroupSpec(kind=kind)]
        left = per_kind
        for position, group in enumerate(of_kind):
            last = position == len(of_kind) - 1
            take = left if last else min(group.count, left)
            if take > 0:
                resized.append(group.model_copy(update={"count": take}))
            left -= take
    return resized


def load_scenario(name_or_path: str) -> Scenario:
    """A built-in scenario by name (`demo`, `basic`, `faults`) or a TOML file by path.

    Raises:
        ScenarioError: not found, not TOML, or not a valid scenario.
    """
    path = Path(name_or_path)
    if path.suffix == ".toml" or path.exists():
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ScenarioError(f"cannot read scenario {path}: {exc}") from exc
    else:
        builtin = resources.files("simulators") / "scenarios" / f"{name_or_path}.toml"
        if not builtin.is_file():
            raise ScenarioError(f"no built-in scenario {name_or_path!r}; built-in: {', '.join(builtin_scenarios())}")
        text = builtin.read_text(encoding="utf-8")
    return parse_scenario(text)


def parse_scenario(text: str) -> Scenario:
    """A scenario from TOML text.

    Raises:
        ScenarioError: with the place of the problem.
    """
    try:
        return Scenario.model_validate(tomllib.loads(text))
    except (tomllib.TOMLDecodeError, ValidationError) as exc:
        raise ScenarioError(f"invalid scenario: {exc}") from exc


def builtin_scenarios() -> list[str]:
    """Names of the scenarios shipped with the package."""
    folder = resources.files("simulators") / "scenarios"
    return sorted(p.name.removesuffix(".toml") for p in folder.iterdir() if p.name.endswith(".toml"))


def fleet_of(scenario: Scenario) -> list[tuple[RegisteredDevice, GroupSpec]]:
    """Every board of the scenario with its group, numbered per village and kind: `an-tay-water-01`, …"""
    boards: list[tuple[RegisteredDevice, GroupSpec]] = []
    for village_index, village in enumerate(scenario.chosen_villages()):
        numbers = dict.fromkeys(KINDS, 0)
        for group in scenario.group:
            for _ in range(group.count):
                numbers[group.kind] += 1
                number = numbers[group.kind]
                lat, lon = _placed(village, village_index, group.kind, number)
                device = RegisteredDevice(
                    id=f"{village.id}-{group.kind}-{number:02d}",
                    village=village.id,
                    kind=group.kind,
                    name=f"{KIND_NAMES_VI[group.kind]} {number} – {village.name}",
                    lat=lat,
                    lon=lon,
                )
                boards.append((device, group))
    return boards


def registry_of(scenario: Scenario) -> Registry:
    """The device registry of a scenario (id, village, kind, name, coordinates) for the API and GIS."""
    return Registry(villages=scenario.chosen_villages(), devices=tuple(d for d, _ in fleet_of(scenario)))


def _placed(village: Village, village_index: int, kind: DeviceKind, number: int) -> tuple[float, float]:
    """A deterministic spot within ~1.5 km of the commune's reference point (golden-angle spiral)."""
    slot = KINDS.index(kind) + 3 * number + 7 * village_index
    angle = slot * 2.399963229728653
    radius_deg = 0.004 * math.sqrt(slot)
    return round(village.lat + radius_deg * math.sin(angle), 5), round(village.lon + radius_deg * math.cos(angle), 5)
