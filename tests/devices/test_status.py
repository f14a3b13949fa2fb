"""Status payloads: bare words in any case, or JSON with a state."""

from __future__ import annotations

import pytest

from devices.errors import PayloadError
from devices.status import decode_status, encode_status


@pytest.mark.parametrize(
    ("payload", "online"),
    [
        (b"online", True),
        (b"Online", True),
        (b"OFFLINE\n", False),
        (b'{"state": "online", "uptime": 13}', True),
        (b'{"state": "Offline"}', False),
        (encode_status(online=True), True),
        (encode_status(online=False), False),
    ],
)
def test_states(payload: bytes, online: bool) -> None:
    assert decode_status(payload) is online


@pytest.mark.parametrize("payload", [b"", b"sleeping", b"1", b'{"state": 1}', b"[1]", b"{", b'{"online": true}'])
def test_anything_else_is_refused(payload: bytes) -> None:
    with pytest.raises(PayloadError):
        decode_status(payload)
