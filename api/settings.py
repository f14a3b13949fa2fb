"""The API's settings: the shared VILLAGE_* variables plus VILLAGE_API_*."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal
from zoneinfo import available_timezones

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from devices.config import VillageSettings
from devices.ids import Identifier

ALL_VILLAGES = "*"


class TokenGrant(BaseModel):
    """A bearer token and what it may do. Only `name` ever appears in logs; the token is a SecretStr."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    token: SecretStr = Field(min_length=16)
    name: str = Field("token", min_length=1, max_length=64, description="who holds it, for logs and metrics")
    villages: tuple[Identifier | Literal["*"], ...] = Field((ALL_VILLAGES,), min_length=1)
    scope: Literal["read", "admin"] = "read"


class ApiSettings(VillageSettings):
    """Tokens are never logged; pydantic's SecretStr keeps them out of reprs."""

    api_public_read: bool = Field(default=False, description="1 = open-data read access without a token")
    api_tokens: tuple[TokenGrant, ...] = Field(
        default=(),
        description='JSON list; a bare string is a read token for every village, or {"token", "name", '
        '"villages": [...], "scope": "read"|"admin"}',
    )
    api_query_timeout_s: float = Field(10.0, gt=0, description="InfluxDB answer deadline; beyond it 504")
    api_max_points: int = Field(100_000, ge=100, description="largest series answer (buckets x series)")
    api_max_raw_days: int = Field(93, ge=1, description="longest range for aggregates the tiers cannot serve")
    api_offline_after_s: int = Field(900, ge=10, description="a device silent this long is offline")
    api_cache_max_age_s: int = Field(30, ge=0, description="Cache-Control max-age of reads")
    api_cors_origins: tuple[str, ...] = Field((), description='JSON list of allowed origins, ["*"] for any')
    api_timezone: str = Field("Asia/Ho_Chi_Minh", description="default time zone of day buckets and daily AQI")
    api_public_url: str = Field(
        "http://127.0.0.1:8000", description="address phones use to reach this API: the start of farmers' links"
    )
    farmers_file: Path | None = Field(None, description="farmers' personal links (TOML, 0600); default DATA_DIR")

    @property
    def farmers_path(self) -> Path:
        """Where the farmers' links live."""
        return self.farmers_file or self.data_dir / "farmers.toml"

    @field_validator("api_tokens", mode="before")
    @classmethod
    def _bare_tokens(cls, value: Any) -> Any:  # noqa: ANN401 - raw settings input
        if isinstance(value, list | tuple):
            return tuple({"token": item} if isinstance(item, str) else item for item in value)
        return value

    @field_validator("api_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        if value not in available_timezones():
            raise ValueError(f"unknown time zone {value!r}")
        return value
