"""API errors with one stable JSON shape: `{"error": {"code": ..., "message": ...}}`.

ApiError                    answered as-is with its status
├── NotFound                404: the device/village has no data and no registry entry
└── Unavailable             503: InfluxDB is unreachable or failed; the client may retry
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse


class ApiError(Exception):
    """An error the client should see, with a stable machine-readable code."""

    status = 400

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class NotFound(ApiError):  # noqa: N818 - HTTP vocabulary
    status = 404


class Unavailable(ApiError):  # noqa: N818
    status = 503


def error_body(code: str, message: str, **extra: object) -> dict[str, Any]:
    """The one error shape."""
    return {"error": {"code": code, "message": message, **extra}}


def install_error_handlers(app: FastAPI) -> None:
    """Answer ApiError and validation errors in the stable shape."""

    async def on_api_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ApiError)  # noqa: S101 - registered for ApiError only
        return JSONResponse(error_body(exc.code, exc.message), status_code=exc.status)

    async def on_validation_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)  # noqa: S101
        problems = [{"location": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in exc.errors()[:10]]
        return JSONResponse(error_body("invalid_request", "the request is invalid", problems=problems), 422)

    app.add_exception_handler(ApiError, on_api_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
