"""Topics parse, build and refuse anything that could inject into line protocol or other devices' topics."""

from __future__ import annotations

import pytest

from devices.errors import InvalidTopicError
from devices.ids import is_identifier
from devices.topics import Channel, Topic, subscription


def test_parse_and_build_round_trip() -> None:
    topic = Topic.parse("village/phu-an/phu-an-water-01/telemetry")
    assert topic == Topic("phu-an", "phu-an-water-01", Channel.TELEMETRY)
    assert str(topic) == "village/phu-an/phu-an-water-01/telemetry"
    assert str(topic.with_channel(Channel.REJECTED)) == "village/phu-an/phu-an-water-01/rejected"


@pytest.mark.parametrize(
    "text",
    [
        "village/a/b",
        "village/a/b/telemetry/extra",
        "farm/a/b/telemetry",
        "village/a/b/unknown",
        "village/A/b/telemetry",
        "village/a b/c/telemetry",
        "village/a,b/c/telemetry",
        'village/a"b/c/telemetry',
        "village/a=b/c/telemetry",
        "village/a\nb/c/telemetry",
        "village/-a/b/telemetry",
        "village/_a/b/telemetry",
        "village//b/telemetry",
        "village/+/b/telemetry",
        "village/#/b/telemetry",
        "village/" + "a" * 65 + "/b/telemetry",
        "village/làng/b/telemetry",
        "village/a\u200bb/c/telemetry",
    ],
)
def test_hostile_or_malformed_topics_are_refused(text: str) -> None:
    with pytest.raises(InvalidTopicError):
        Topic.parse(text)


def test_identifier_boundaries() -> None:
    assert is_identifier("a")
    assert is_identifier("0" * 64)
    assert not is_identifier("0" * 65)
    assert not is_identifier(7)


def test_subscriptions() -> None:
    assert subscription(Channel.TELEMETRY) == "village/+/+/telemetry"
    assert subscription(Channel.SENML, village="phu-an") == "village/phu-an/+/senml"
    assert subscription(Channel.TELEMETRY, share_group="ingest") == "$share/ingest/village/+/+/telemetry"
    with pytest.raises(ValueError, match="share group"):
        subscription(Channel.TELEMETRY, share_group="a/b")
