"""Path and query parameters shared by the routes, with the patterns that keep them out of InfluxQL syntax."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

from devices.ids import IDENTIFIER_RE

ID_PATTERN = f"^{IDENTIFIER_RE.pattern}$"

DevicePath = Annotated[str, Path(pattern=ID_PATTERN, description="device id", examples=["phu-an-water-01"])]
VillagePath = Annotated[str, Path(pattern=ID_PATTERN, description="village id", examples=["phu-an"])]
VillageQuery = Annotated[str | None, Query(pattern=ID_PATTERN, description="only this village", examples=["phu-an"])]
DeviceQuery = Annotated[str | None, Query(pattern=ID_PATTERN, description="one device", examples=["phu-an-air-01"])]
