"""The device registry: which boards exist, where they stand and who owns them.

Stored as TOML (`[[village]]` and `[[device]]` tables) so an officer can edit it by hand. Parsing and
formatting are pure; services read and write the file themselves.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator, Mapping
from datetime import date
from typing import Any, Literal

import tomli_w
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from devices.errors import RegistryError
from devices.ids import Identifier

DeviceKind = Literal["water", "air", "agri"]


class Village(BaseModel):
    """A commune or village with a name people recognise and a point for the map."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: Identifier
    name: str = Field(min_length=1, max_length=120)
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    district: str | None = None


class RegisteredDevice(BaseModel):
    """A board installed somewhere: the registry entry the API, GIS and provisioning read."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: Identifier
    village: Identifier
    kind: DeviceKind
    name: str = Field(min_length=1, max_length=120)
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    installed: date | None = None
    owner: str | None = None


class Registry(BaseModel):
    """Villages and devices, with ids unique and every device in a known village."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    villages: tuple[Village, ...] = ()
    devices: tuple[RegisteredDevice, ...] = ()

    @model_validator(mode="after")
    def _consistent(self) -> Registry:
        village_ids = [v.id for v in self.villages]
        device_ids = [d.id for d in self.devices]
        for what, ids in (("village", village_ids), ("device", device_ids)):
            duplicates = sorted({i for i in ids if ids.count(i) > 1})
            if duplicates:
                raise ValueError(f"duplicate {what} ids: {', '.join(duplicates)}")
        known = set(village_ids)
        orphans = sorted({d.village for d in self.devices if d.village not in known})
        if orphans:
            raise ValueError(f"devices refer to unknown villages: {', '.join(orphans)}")
        return self

    @property
    def by_id(self) -> Mapping[str, RegisteredDevice]:
        """Devices by id."""
        return {d.id: d for d in self.devices}

    def village(self, village_id: str) -> Village | None:
        """The village with this id, if registered."""
        return next((v for v in self.villages if v.id == village_id), None)

    def devices_in(self, village_id: str) -> Iterator[RegisteredDevice]:
        """The devices registered in one village."""
        return (d for d in self.devices if d.village == village_id)

    def with_device(self, device: RegisteredDevice) -> Registry:
        """A registry with `device` added, or replaced when its id exists."""
        kept = tuple(d for d in self.devices if d.id != device.id)
        return Registry(villages=self.villages, devices=(*kept, device))

    def without_device(self, device_id: str) -> Registry:
        """A registry without the device `device_id`."""
        return Registry(villages=self.villages, devices=tuple(d for d in self.devices if d.id != device_id))


def parse_registry(text: str) -> Registry:
    """Parse registry TOML.

    Raises:
        RegistryError: the TOML is malformed or the content is inconsistent; the message says where.
    """
    try:
        data: dict[str, Any] = tomllib.loads(text)
        return Registry(villages=tuple(data.get("village", ())), devices=tuple(data.get("device", ())))
    except (tomllib.TOMLDecodeError, ValidationError) as exc:
        raise RegistryError(f"invalid registry: {exc}") from exc


def format_registry(registry: Registry) -> str:
    """Registry TOML, one table per village and device, without empty optional keys."""
    return tomli_w.dumps(
        {
            "village": [v.model_dump(exclude_none=True) for v in registry.villages],
            "device": [d.model_dump(exclude_none=True) for d in registry.devices],
        }
    )
