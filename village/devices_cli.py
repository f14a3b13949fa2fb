"""`village devices`: the device registry and what is generated from it (broker credentials and ACLs)."""

from __future__ import annotations

import click


@click.group("devices")
def devices_group() -> None:
    """Manage the device registry (VILLAGE_REGISTRY_FILE)."""
