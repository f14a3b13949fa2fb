"""MQTT topics of the wire contract (DESIGN.md §2) as frozen, self-validating values."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from devices.errors import InvalidIdentifierError, InvalidTopicError
from devices.ids import check_identifier

ROOT = "village"


class Channel(enum.StrEnum):
    """The last topic segment: what the payload is."""

    TELEMETRY = "telemetry"
    SENML = "senml"
    STATUS = "status"
    REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class Topic:
    """`village/{village}/{device}/{channel}`, with both ids checked against the identifier pattern."""

    village: str
    device: str
    channel: Channel

    def __post_init__(self) -> None:
        try:
            check_identifier(self.village, what="village")
            check_identifier(self.device, what="device")
        except InvalidIdentifierError as exc:
            raise InvalidTopicError(str(exc)) from exc

    @classmethod
    def parse(cls, topic: str) -> Topic:
        """Parse a concrete topic (no wildcards).

        Raises:
            InvalidTopicError: the topic has the wrong shape, root, channel or identifiers.
        """
        parts = topic.split("/")
        if len(parts) != 4 or parts[0] != ROOT:
            raise InvalidTopicError(f"topic {topic[:120]!r} is not {ROOT}/{{village}}/{{device}}/{{channel}}")
        try:
            channel = Channel(parts[3])
        except ValueError:
            raise InvalidTopicError(f"topic {topic[:120]!r} has unknown channel {parts[3][:40]!r}") from None
        return cls(village=parts[1], device=parts[2], channel=channel)

    def with_channel(self, channel: Channel) -> Topic:
        """The same device's topic on another channel (e.g. where to publish a rejection)."""
        return Topic(village=self.village, device=self.device, channel=channel)

    def __str__(self) -> str:
        return f"{ROOT}/{self.village}/{self.device}/{self.channel.value}"


def subscription(channel: Channel, *, village: str = "+", share_group: str | None = None) -> str:
    """A subscription filter for one channel of every device (optionally of one village or shared)."""
    if village != "+":
        check_identifier(village, what="village")
    topic_filter = f"{ROOT}/{village}/+/{channel.value}"
    if share_group is None:
        return topic_filter
    check_identifier(share_group, what="share group")
    return f"$share/{share_group}/{topic_filter}"
