"""Errors of the `village` command, named by what the caller must do.

ProvisionError    the registry or a requested rotation does not allow provisioning: fix the input, run again
"""

from __future__ import annotations


class ProvisionError(ValueError):
    """Provisioning cannot proceed; nothing was written."""
