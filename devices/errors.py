"""Errors raised by the contract, named by what the caller must do.

ContractError                 the input does not follow the wire contract: reject it
├── InvalidIdentifierError    a village/device/quantity id breaks the identifier pattern
│   └── InvalidTopicError     a topic is not village/{village}/{device}/{channel}
├── PayloadError              a payload cannot be decoded; carries a RejectReason
└── LineProtocolError         a value would break a line of InfluxDB line protocol
RegistryError                 the device registry file is inconsistent: fix the file
"""

from __future__ import annotations

from devices.reasons import RejectReason


class ContractError(ValueError):
    """Input that does not follow the wire contract."""


class InvalidIdentifierError(ContractError):
    """An identifier that could be used to inject into topics or line protocol."""


class InvalidTopicError(InvalidIdentifierError):
    """A topic outside village/{village}/{device}/{channel}."""


class PayloadError(ContractError):
    """A payload that cannot be decoded at all; every reading in it is rejected with `reason`."""

    def __init__(self, reason: RejectReason, detail: str) -> None:
        super().__init__(f"{reason.value}: {detail}")
        self.reason = reason
        self.detail = detail


class LineProtocolError(ContractError):
    """A measurement, tag or field that cannot be written safely."""


class RegistryError(ValueError):
    """A registry that contradicts itself (duplicate ids, unknown village)."""
