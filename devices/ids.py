"""Identifiers that travel in topics and become InfluxDB tags: validated once, at the edge."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import StringConstraints

from devices.errors import InvalidIdentifierError

IDENTIFIER_RE = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
"""DESIGN.md §2: every topic segment, village, device and quantity id. Nothing here can break line protocol."""

Identifier = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]
"""The pattern as a pydantic type, for models at the edges."""


def is_identifier(value: object) -> bool:
    """True when `value` is a string that matches the identifier pattern exactly."""
    return isinstance(value, str) and IDENTIFIER_RE.fullmatch(value) is not None


def check_identifier(value: str, *, what: str) -> str:
    """Return `value` unchanged, or raise when it is not a safe identifier.

    Raises:
        InvalidIdentifierError: with `what` naming the role of the value, and the value shown with repr().
    """
    if not is_identifier(value):
        shown = value[:80] if isinstance(value, str) else value
        raise InvalidIdentifierError(f"{what} {shown!r} does not match {IDENTIFIER_RE.pattern}")
    return value
