"""Errors of the ingestor, named by what the caller must do.

IngestError
├── ConfigurationError  the ingestor cannot start as configured: fix the configuration (exit status 2)
├── InfluxUnavailable   InfluxDB is unreachable, timed out or answered 5xx: keep the data, retry later
├── InfluxRefused       InfluxDB answered 4xx: retrying the same lines cannot succeed
└── SpoolFull           the spool reached its quota or the disk is full: hold the data unacknowledged
"""

from __future__ import annotations


class IngestError(Exception):
    """Base of the ingestor's own errors."""


class ConfigurationError(IngestError):
    """A setting or a file the ingestor needs is wrong; the message says which and how to fix it."""


class InfluxUnavailable(IngestError):  # noqa: N818 - named for the state the caller must handle
    """The write did not happen; the data must be kept and retried."""


class InfluxRefused(IngestError):  # noqa: N818
    """InfluxDB refused the lines; `body` says why (and, for a partial write, how many were dropped)."""

    def __init__(self, status: int, body: str) -> None:
        super().__init__(f"InfluxDB answered {status}: {body[:300]}")
        self.status = status
        self.body = body

    @property
    def blames_lines(self) -> bool:
        """400/413: some lines (or the request's size) are the problem, so bisecting finds them."""
        return self.status in (400, 413)


class SpoolFull(IngestError):  # noqa: N818
    """Nothing was appended; the caller must not acknowledge the data."""
