"""The OpenAPI document: the API's description, and the error schema every endpoint refers to."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, Field

DESCRIPTION = """\
Open data of the Bình Dương smart-village sensors: water, air and farm readings, as JSON, CSV and GeoJSON.

- **Authentication**: `Authorization: Bearer <token>`. Tokens are scoped to villages and to `read` or `admin`.
  When the operator enables open data (`VILLAGE_API_PUBLIC_READ=1`) reads need no token.
  401 = no valid token; 403 = the token does not cover that village or action.
- **Errors** always have the shape `{"error": {"code": "...", "message": "..."}}`; codes are stable.
- **Time**: instants are RFC 3339 with an offset, dates, epoch milliseconds, `now` or `now-7d`; answers carry
  both RFC 3339 UTC and epoch milliseconds (`ts_ms`). Day buckets and daily indices use `Asia/Ho_Chi_Minh`
  unless `tz` says otherwise.
- **Indices**: VN_AQI follows Quyết định 1459/QĐ-TCMT; values from village sensors are *indicative*
  (chỉ số tham khảo), since the decision is written for certified automatic stations. The US EPA AQI (2024
  breakpoints) is shown beside it, clearly named; the two scales differ.
- **Caching**: reads carry `ETag` and `Cache-Control`; send `If-None-Match` to get `304 Not Modified`.
  Answers are gzip-compressed when the client accepts it.
- **CSV**: `format=csv` or `Accept: text/csv` on `/series` and `/devices` streams RFC 4180 CSV.
- **GIS**: `/api/v1/stations` is GeoJSON (RFC 7946, [lon, lat]) that QGIS loads by URL.
"""


class ErrorDetail(BaseModel):
    code: str = Field(examples=["invalid_request"], description="stable, machine-readable")
    message: str = Field(examples=["the request is invalid"], description="for people; may change")


class ErrorResponse(BaseModel):
    error: ErrorDetail


def install_openapi(app: FastAPI, *, public_read: bool) -> None:
    """Generate the document once, with ErrorResponse among the schemas the error answers refer to.

    With open-data reads the bearer token is optional for reads, and the document says so (`{}` among the
    alternatives); admin actions always need one.
    """

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title,
            version=app.version,
            summary=app.summary,
            description=app.description,
            routes=app.routes,
            license_info=app.license_info,
        )
        schemas = schema.setdefault("components", {}).setdefault("schemas", {})
        schemas["ErrorResponse"] = ErrorResponse.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(schemas["ErrorResponse"].pop("$defs", {}))
        if public_read:
            for path, operations in schema["paths"].items():
                for operation in operations.values():
                    if "security" in operation and not path.startswith("/api/v1/admin"):
                        operation["security"] = [{}, *operation["security"]]
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
