"""Device status payloads on `village/{village}/{device}/status`: `online`/`offline` or `{"state": ...}`."""

from __future__ import annotations

import orjson

from devices import jsontext
from devices.errors import PayloadError
from devices.reasons import RejectReason

ONLINE = b"online"
OFFLINE = b"offline"
_STATES = {"online": True, "offline": False}


def decode_status(payload: bytes) -> bool:
    """True for online, False for offline; any case, bare word or JSON `{"state": "online", ...}`.

    Raises:
        PayloadError: anything else.
    """
    text = payload.strip()
    if text[:1] == b"{":
        try:
            found = orjson.loads(text)
            repeated = jsontext.first_repeated(jsontext.marked(text, found))
            state = found.get("state")
        except (ValueError, AttributeError):
            raise PayloadError(RejectReason.INVALID_PAYLOAD, "status JSON must be an object") from None
        if repeated is not None:
            raise PayloadError(RejectReason.INVALID_PAYLOAD, f"names repeated in the status object: {repeated}")
    else:
        state = text.decode("utf-8", errors="replace")
    if isinstance(state, str) and state.strip().lower() in _STATES:
        return _STATES[state.strip().lower()]
    raise PayloadError(RejectReason.INVALID_PAYLOAD, f"status must be online or offline, not {str(state)[:40]!r}")


def encode_status(online: bool) -> bytes:  # noqa: FBT001 - the one argument is the state
    """The payload a board publishes (retained) or leaves as its last will."""
    return ONLINE if online else OFFLINE
