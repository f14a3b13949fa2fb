"""Dependencies as `Annotated` aliases: the reader opened in the lifespan, settings, and read access."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.errors import ApiError
from api.influx import InfluxReader
from api.settings import ApiSettings


class Unauthorized(ApiError):  # noqa: N818
    status = 401


def _settings(request: Request) -> ApiSettings:
    settings: ApiSettings = request.app.state.settings
    return settings


def _reader(request: Request) -> InfluxReader:
    reader: InfluxReader = request.app.state.reader
    return reader


SettingsDep = Annotated[ApiSettings, Depends(_settings)]
ReaderDep = Annotated[InfluxReader, Depends(_reader)]

_bearer = HTTPBearer(auto_error=False)


def require_read(
    settings: SettingsDep, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> None:
    """Allow the request when reads are public or the bearer token is one of the configured tokens."""
    if settings.api_public_read:
        return
    if credentials is None:
        raise Unauthorized("missing_token", "a bearer token is required (Authorization: Bearer <token>)")
    offered = credentials.credentials.encode()
    if not any(secrets.compare_digest(offered, t.get_secret_value().encode()) for t in settings.api_tokens):
        raise Unauthorized("invalid_token", "the bearer token is not valid")


ReadAccess = Depends(require_read)
