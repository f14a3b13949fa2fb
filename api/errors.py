"""API errors with one stable JSON shape: `{"error": {"code": ..., "message": ...}}`.

ApiError                    answered as-is with its status
├── InvalidRequest          422: a parameter is well-formed but not acceptable (range too large, ...)
├── Unauthorized            401: no valid bearer token (and reads are not public)
├── Forbidden               403: the token is valid but not for this village or action
├── NotFound                404: the device/village has no data and no registry entry
├── Unavailable             503: InfluxDB is unreachable or failed; the client may retry
└── GatewayTimeout          504: InfluxDB did not answer in time; retry later or ask for less
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException

from api.responses import OrjsonResponse

logger = logging.getLogger(__name__)


class ApiError(Exception):
    """An error the client should see, with a stable machine-readable code."""

    status = 400
    headers: dict[str, str] | None = None

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class InvalidRequest(ApiError):  # noqa: N818 - HTTP vocabulary
    status = 422


class Unauthorized(ApiError):  # noqa: N818 - HTTP vocabulary
    status = 401
    headers = {"WWW-Authenticate": 'Bearer realm="smart-village"'}  # noqa: RUF012 - read-only class constant


class Forbidden(ApiError):  # noqa: N818
    status = 403


class NotFound(ApiError):  # noqa: N818
    status = 404


class Unavailable(ApiError):  # noqa: N818
    status = 503
    headers = {"Retry-After": "5"}  # noqa: RUF012


class GatewayTimeout(ApiError):  # noqa: N818
    status = 504


def error_body(code: str, message: str, **extra: object) -> dict[str, Any]:
    """The one error shape."""
    return {"error": {"code": code, "message": message, **extra}}


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {
        "description": description,
        "content": {
            "application/json": {
                "schema": {"$ref": "#/components/schemas/ErrorResponse"},
                "example": error_body(code, message),
            }
        },
    }
    for status, description, code, message in (
        (401, "No valid bearer token", "missing_token", "a bearer token is required (Authorization: Bearer <token>)"),
        (403, "The token does not cover this village or action", "forbidden", "this token may not read 'an-tay'"),
        (
            404,
            "No such device or village (no data and no registry entry)",
            "device_not_found",
            "no readings for device 'x'",
        ),
        (422, "A parameter is invalid", "invalid_request", "the request is invalid"),
        (503, "InfluxDB is unreachable", "influxdb_unreachable", "InfluxDB is unreachable"),
        (504, "InfluxDB did not answer in time", "influxdb_timeout", "InfluxDB did not answer in time"),
    )
}
"""OpenAPI descriptions of the errors every data endpoint may answer."""


def install_error_handlers(app: FastAPI) -> None:
    """Answer every error (ours, validation, routing, bugs) in the stable shape."""

    async def on_api_error(_request: Request, exc: Exception) -> OrjsonResponse:
        assert isinstance(exc, ApiError)  # noqa: S101 - registered for ApiError only
        return OrjsonResponse(error_body(exc.code, exc.message), status_code=exc.status, headers=exc.headers)

    async def on_validation_error(_request: Request, exc: Exception) -> OrjsonResponse:
        assert isinstance(exc, RequestValidationError)  # noqa: S101
        problems = [{"location": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in exc.errors()[:10]]
        return OrjsonResponse(error_body("invalid_request", "the request is invalid", problems=problems), 422)

    async def on_http_error(_request: Request, exc: Exception) -> OrjsonResponse:
        assert isinstance(exc, HTTPException)  # noqa: S101
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return OrjsonResponse(error_body(code, str(exc.detail)), exc.status_code, headers=exc.headers)

    async def on_bug(request: Request, exc: Exception) -> OrjsonResponse:
        # The route template, not the path: a farmer's link carries its secret token in the path.
        route = getattr(request.scope.get("route"), "path", "unmatched")
        logger.error("unhandled error on %s %s", request.method, route, exc_info=exc)
        return OrjsonResponse(error_body("internal_error", "the server failed; this is a bug"), 500)

    app.add_exception_handler(ApiError, on_api_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(HTTPException, on_http_error)
    app.add_exception_handler(Exception, on_bug)
