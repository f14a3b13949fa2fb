"""What the MQTT layer hands to the pipeline: plain values, so nothing downstream knows paho."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class InboundMessage:
    """One received message and what is needed to acknowledge it later."""

    topic: str
    payload: bytes
    qos: int
    retain: bool
    mid: int
    received_ms: int
    session: int
    """Connection generation: a packet id is only valid on the connection that delivered it."""
    dup: bool = False
    """The broker sent this message before (MQTT DUP): a redelivery, not the device sending twice."""
