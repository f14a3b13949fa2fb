"""JSON answers that caches and phones can rely on: orjson bytes, a strong ETag, Cache-Control and Vary."""

from __future__ import annotations

import hashlib
from typing import Any

import orjson
from fastapi import Request
from fastapi.responses import JSONResponse, Response

VARY = "Accept, Accept-Encoding, Authorization"


class OrjsonResponse(JSONResponse):
    """JSON rendered by orjson (fast, and exact for floats); for errors and small answers."""

    def render(self, content: Any) -> bytes:  # noqa: ANN401 - any JSON-able content
        return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS)


def cache_headers(request: Request, *, max_age_s: int) -> dict[str, str]:
    """Cache-Control for a read: shared caches may keep open data, private caches only token-gated data."""
    visibility = "private" if "authorization" in request.headers else "public"
    return {"Cache-Control": f"{visibility}, max-age={max_age_s}", "Vary": VARY}


def cached_json(request: Request, content: object, *, max_age_s: int, media_type: str = "application/json") -> Response:
    """`content` as JSON with a strong ETag; 304 Not Modified when the client already holds these bytes."""
    body = orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS)
    etag = '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'
    headers = {"ETag": etag, **cache_headers(request, max_age_s=max_age_s)}
    if etag in _offered_etags(request):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=media_type, headers=headers)


def _offered_etags(request: Request) -> set[str]:
    offered = request.headers.get("if-none-match", "")
    return {tag.strip().removeprefix("W/") for tag in offered.split(",") if tag.strip()}
