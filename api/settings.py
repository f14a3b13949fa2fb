"""The API's settings: the shared VILLAGE_* variables plus VILLAGE_API_*."""

from __future__ import annotations

from pydantic import Field, SecretStr

from devices.config import VillageSettings


class ApiSettings(VillageSettings):
    """Tokens are never logged; pydantic's SecretStr keeps them out of reprs."""

    api_public_read: bool = Field(default=False, description="1 = open-data read access without a token")
    api_tokens: list[SecretStr] = Field(default_factory=list, description="bearer tokens allowed to read (JSON list)")
    api_query_timeout_s: float = Field(10.0, gt=0)
