"""`village devices`: the device registry and what is generated from it (broker credentials and ACLs)."""

from __future__ import annotations

import click

from village.provision import provision_command
from village.registry_commands import add_command, list_command, remove_command


@click.group("devices")
def devices_group() -> None:
    """Manage the device registry (VILLAGE_REGISTRY_FILE)."""


devices_group.add_command(provision_command)
devices_group.add_command(list_command)
devices_group.add_command(add_command)
devices_group.add_command(remove_command)
