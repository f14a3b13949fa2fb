"""Errors of the ingestor, named by what the caller must do.

IngestError
├── InfluxUnavailable   InfluxDB is unreachable, timed out or answered 5xx: keep the data, retry later
└── InfluxRefused       InfluxDB answered 4xx: retrying the same lines cannot succeed
"""

from __future__ import annotations


class IngestError(Exception):
    """Base of the ingestor's own errors."""


class InfluxUnavailable(IngestError):  # noqa: N818 - named for the state the caller must handle
    """The write did not happen; the data must be kept and retried."""


class InfluxRefused(IngestError):  # noqa: N818
    """InfluxDB refused the lines; `body` says why (and, for a partial write, how many were dropped)."""

    def __init__(self, status: int, body: str) -> None:
        super().__init__(f"InfluxDB answered {status}: {body[:300]}")
        self.status = status
        self.body = body
