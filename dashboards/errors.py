"""Errors of the dashboards package, named by what the caller must do.

DashboardsError
├── StaleProvisioningError   the committed files differ from a fresh build: run `village dashboards build`
├── QueryTemplateError       a query uses a macro or variable Grafana would not expand: fix the definition
└── PushError                Grafana refused an upload: read the message, fix credentials or the object
"""

from __future__ import annotations


class DashboardsError(Exception):
    """Base of every error raised by `dashboards`."""


class StaleProvisioningError(DashboardsError):
    """The provisioning files on disk are not what the code generates."""


class QueryTemplateError(DashboardsError):
    """A query cannot be expanded the way Grafana would expand it."""


class PushError(DashboardsError):
    """Grafana refused an object during `village dashboards push`."""
