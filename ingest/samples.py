"""Rejections: what decoding and validation produce for anything that is not stored, whatever the payload."""

from __future__ import annotations

from dataclasses import dataclass

from devices.reasons import RejectReason


@dataclass(frozen=True, slots=True)
class Rejection:
    """Why something in message `message` was not stored: the whole message, one sample, or one reading."""

    message: int
    reason: RejectReason
    detail: str
    quantity: str | None = None
    position: int | None = None
