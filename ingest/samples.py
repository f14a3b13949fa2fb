"""Samples and rejections: what decoding produces, whatever the payload format was."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from devices.reasons import RejectReason
from devices.topics import Topic


@dataclass(frozen=True, slots=True)
class Sample:
    """The readings one device took at one time, with raw values still to be validated."""

    message: int
    """Index of the inbound message in its batch."""
    topic: Topic
    ts_ms: int
    clock_flagged: bool
    """The device time was missing or not credible; `ts_ms` is the receive time."""
    readings: Mapping[str, object]
    position: int | None = None
    """Index in a store-and-forward array, when the payload was one."""


@dataclass(frozen=True, slots=True)
class Rejection:
    """Why something in message `message` was not stored: the whole message, one sample, or one reading."""

    message: int
    reason: RejectReason
    detail: str
    quantity: str | None = None
    position: int | None = None
