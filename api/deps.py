"""Dependencies as `Annotated` aliases: settings, the reader and registry opened in the lifespan, the caller."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.auth import Principal, authenticate
from api.influx import InfluxReader
from api.metrics import ApiMetrics
from api.registry import RegistryFile
from api.settings import ApiSettings
from devices.registry import Registry


def _settings(request: Request) -> ApiSettings:
    settings: ApiSettings = request.app.state.settings
    return settings


def _reader(request: Request) -> InfluxReader:
    reader: InfluxReader = request.app.state.reader
    return reader


def _registry(request: Request) -> Registry:
    registry_file: RegistryFile = request.app.state.registry_file
    return registry_file.current()


def _metrics(request: Request) -> ApiMetrics:
    metrics: ApiMetrics = request.app.state.metrics
    return metrics


SettingsDep = Annotated[ApiSettings, Depends(_settings)]
ReaderDep = Annotated[InfluxReader, Depends(_reader)]
RegistryDep = Annotated[Registry, Depends(_registry)]
MetricsDep = Annotated[ApiMetrics, Depends(_metrics)]

_bearer = HTTPBearer(auto_error=False, description="A token from VILLAGE_API_TOKENS; optional when reads are public")


def _caller(
    settings: SettingsDep, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Principal:
    return authenticate(settings, credentials.credentials if credentials is not None else None)


CallerDep = Annotated[Principal, Depends(_caller)]
"""Who is asking; resolving it answers 401 when a token is needed and missing or unknown."""
