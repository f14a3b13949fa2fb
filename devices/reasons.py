"""Why a reading was not stored, and how a stored one is flagged: stable codes on the wire and in InfluxDB."""

from __future__ import annotations

import enum


class RejectReason(enum.StrEnum):
    """A reading that is not stored carries exactly one of these codes (wire contract: stable names)."""

    INVALID_TOPIC = "invalid_topic"
    PAYLOAD_TOO_LARGE = "payload_too_large"
    MALFORMED_JSON = "malformed_json"
    INVALID_PAYLOAD = "invalid_payload"
    BATCH_TOO_LARGE = "batch_too_large"
    UNKNOWN_QUANTITY = "unknown_quantity"
    NOT_A_NUMBER = "not_a_number"
    NON_FINITE = "non_finite"
    HARD_LIMIT = "hard_limit"
    DUPLICATE_CONFLICT = "duplicate_conflict"
    UNIT_UNCONVERTIBLE = "unit_unconvertible"
    INVALID_SENML = "invalid_senml"
    UNKNOWN_DEVICE = "unknown_device"
    VILLAGE_MISMATCH = "village_mismatch"
    WRITE_REFUSED = "write_refused"
    INTERNAL_ERROR = "internal_error"
    """The ingestor failed on this message (a bug): kept so it can be replayed once fixed, never retried forever."""


class QualityFlag(enum.IntFlag):
    """Stored but suspicious. Each flag becomes a float field (1.0) of the `quality` measurement."""

    SOFT_LIMIT = enum.auto()
    SPIKE = enum.auto()
    STUCK = enum.auto()
    CLOCK = enum.auto()
    CROSS_CHECK = enum.auto()
    UNREGISTERED = enum.auto()

    @property
    def field(self) -> str:
        """The InfluxDB field name of a single flag."""
        assert self.name is not None  # noqa: S101 - single flags always have a name
        return self.name.lower()


def flag_fields(flags: int) -> tuple[str, ...]:
    """The field names of every single flag set in `flags`, in declaration order."""
    return tuple(flag.field for flag in QualityFlag if flags & flag)
